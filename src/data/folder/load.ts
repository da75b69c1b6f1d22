/**
 * @file A folder of images loaded as a dataset: scanned (scan.ts), each header read, the input
 * size and channels decided, every image decoded and resized on all cores (decode-files.ts: JPEGs
 * by the addon's libjpeg path, the rest by sharp) through the decode cache (cache.ts), then the training
 * split's per-channel mean and std computed, so that the checkpoint can record the preprocessing
 * exactly.
 */
import { mkdir } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { msg, setting, UserError } from '../../core/errors.js';
import { describeImages } from '../describe.js';
import type { DatasetInfo, ImageSet } from '../datasets.js';
import { cachePath, defaultCacheDir, fileKey, readCache, writeCache } from './cache.js';
import { defaultResize, type DecodeSettings, type Probe } from './decode.js';
import { decodeFiles, readHeaders, type Decoded, type ReadOptions } from './decode-files.js';
import { scanImageFolder, type FolderScan, type ImageFile } from './scan.js';
import type { FolderSettings } from './split.js';

export interface FolderLoadOptions extends FolderSettings, ReadOptions {
  onProgress?(stage: 'reading headers' | 'decoding', done: number, total: number): void;
}

export interface BadImage { path: string; error: string }

export interface LoadedFolder {
  info: DatasetInfo;
  train: ImageSet;
  test: ImageSet;
  scan: FolderScan;
  settings: DecodeSettings;
  /** Files that could not be decoded, left out (only with skipBadImages). */
  skipped: BadImage[];
  /** Images decoded now; the rest came from the cache. */
  decoded: number;
}

const smallestSide = 16;
const largestSide = 512;
/** The input side unless told otherwise, when the images do not all share one of at most `largestOwnSide`. */
export const defaultSide = 32;
export const largestOwnSide = 64;

function badImagesError(root: string, bad: readonly BadImage[]): UserError {
  const shown = bad.slice(0, 20).map((b) => `  ${b.path}: ${b.error}`);
  const more = bad.length > 20 ? [`  … and ${bad.length - 20} more`] : [];
  const list = [`${root}: ${bad.length} file${bad.length > 1 ? 's' : ''} cannot be decoded as images:`, ...shown, ...more].join('\n');
  return new UserError(msg`${list}\nFix or remove them, or pass ${setting('skipBadImages', true)} to train without them (they are then listed in summary.json and the report).`);
}

function decideSettings(probes: readonly Probe[], o: FolderLoadOptions): DecodeSettings {
  const good = probes.filter((p): p is Exclude<Probe, { error: string }> => !('error' in p));
  let size = o.imageSize;
  if (size === undefined) {
    const first = good[0];
    const oneSize = first !== undefined && first.width === first.height && good.every((p) => p.width === first.width && p.height === first.height);
    size = oneSize && first.width <= largestOwnSide && first.width >= smallestSide ? first.width : defaultSide;
  }
  if (!Number.isInteger(size) || size < smallestSide || size > largestSide) {
    throw new UserError(msg`${setting('imageSize')} ${size}: the input side must be a whole number from ${smallestSide} to ${largestSide}`);
  }
  const channels = o.channels ?? (good.length > 0 && good.every((p) => p.grey) ? 1 : 3);
  return { size, channels, resize: o.resize ?? defaultResize };
}

function imageSet(files: readonly ImageFile[], pixels: ReadonlyMap<string, Uint8Array>, s: DecodeSettings): ImageSet {
  const kept = files.filter((f) => pixels.has(fileKey(f)));
  const bytes = s.size * s.size * s.channels;
  const images = new Uint8Array(kept.length * bytes);
  const labels = new Uint8Array(kept.length);
  kept.forEach((f, i) => {
    images.set(pixels.get(fileKey(f))!, i * bytes);
    labels[i] = f.label;
  });
  return { images, labels, count: kept.length, height: s.size, width: s.size, channels: s.channels };
}

export async function loadImageFolder(folder: string, o: FolderLoadOptions = {}): Promise<LoadedFolder> {
  const root = resolve(folder);
  const scan = scanImageFolder(root, o);
  if (scan.classes.length > 256) throw new UserError(`${root}: ${scan.classes.length} class folders; kilosecond stores labels as bytes, so at most 256 classes`);
  const all = [...scan.train, ...scan.test];
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  await mkdir(cacheDir, { recursive: true });

  // Headers first: they decide the input size and channels.
  const probeFile = cachePath(cacheDir, root, 'headers', o);
  const knownProbes = await readCache<Probe>(probeFile);
  const unread = all.filter((f) => !knownProbes?.entries.has(fileKey(f)));
  const known = all.length - unread.length;
  const read = await readHeaders(unread.map((f) => f.path), (d) => o.onProgress?.('reading headers', known + d, all.length), o);
  const readNow = new Map(unread.map((f, k) => [fileKey(f), read[k]!]));
  const probes = all.map((f) => knownProbes?.entries.get(fileKey(f))?.value ?? readNow.get(fileKey(f))!);
  const unchanged = (cache: { entries: Map<string, unknown> } | undefined) => cache !== undefined && cache.entries.size === all.length && all.every((f) => cache.entries.has(fileKey(f)));
  if (!unchanged(knownProbes)) await writeCache(probeFile, all.map((f, i) => ({ key: fileKey(f), value: probes[i]! })), 0);
  const settings = decideSettings(probes, o);

  const what = `${settings.size}x${settings.size}x${settings.channels}-${settings.resize}`;
  const pixelFile = cachePath(cacheDir, root, what, o);
  const cached = await readCache<string | null>(pixelFile);
  const recordBytes = settings.size * settings.size * settings.channels;
  const todo = all.flatMap((f, i) => {
    const header = probes[i]!;
    return 'error' in header || cached?.entries.has(fileKey(f)) ? [] : [{ index: i, path: f.path, header }];
  });
  const ready = all.length - todo.length;
  const fresh = await decodeFiles(todo, settings, (d) => o.onProgress?.('decoding', ready + d, all.length), o);
  const decodedNow = new Map(todo.map((t, k) => [t.index, fresh[k]!]));
  const results = all.map((f, i): Decoded => {
    const now = decodedNow.get(i);
    if (now) return now;
    const probe = probes[i]!;
    if ('error' in probe) return { error: probe.error };
    const hit = cached!.entries.get(fileKey(f))!;
    return hit.offset >= 0 ? { pixels: cached!.blob.subarray(hit.offset, hit.offset + recordBytes) } : { error: hit.value ?? 'cannot be decoded' };
  });
  const decoded = todo.length;
  if (!unchanged(cached)) await writeCache(pixelFile, all.map((f, i) => { const r = results[i]!; return { key: fileKey(f), value: 'error' in r ? r.error : null, ...('pixels' in r ? { record: r.pixels } : {}) }; }), recordBytes);

  const bad = all.flatMap((f, i) => { const r = results[i]!; return 'error' in r ? [{ path: f.path, error: r.error }] : []; });
  if (bad.length > 0 && !o.skipBadImages) throw badImagesError(root, bad);
  const pixels = new Map(all.flatMap((f, i) => { const r = results[i]!; return 'pixels' in r ? [[fileKey(f), r.pixels] as const] : []; }));
  const train = imageSet(scan.train, pixels, settings);
  const test = imageSet(scan.test, pixels, settings);
  if (train.count === 0 || test.count === 0) throw new UserError(`${root}: no decodable images left in the ${train.count === 0 ? 'training' : 'test'} split`);
  const info = describeImages({ name: basename(root), classes: scan.classes, train, test });
  return { info, train, test, scan, settings, skipped: bad, decoded };
}
