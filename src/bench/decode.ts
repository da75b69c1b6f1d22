/**
 * @file `bench decode`: how fast a folder of photos becomes training data. Generates JPEG photos
 * of 256x256 (smooth gradients and noise, so they compress like photos, not like flat colour),
 * then times decoding + resizing them to 32x32x3 with sharp (libvips, what image folders use for
 * every format but JPEG), through the whole folder loader (scan, JPEG headers and pixels by the
 * addon's libjpeg path, cache write), its two stages alone, and with @napi-rs/canvas (Skia) in
 * one thread for comparison. Goal: at least 2,000 photos/s on this 2-vCPU machine.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import sharp from 'sharp';
import { decodeImage, type Header } from '../data/folder/decode.js';
import { decodeFiles, decoderVersion, readHeaders } from '../data/folder/decode-files.js';
import { loadImageFolder } from '../data/folder/load.js';

export interface DecodeBenchResult {
  photos: number;
  side: number;
  sharp_decode_img_s: number;
  folder_load_img_s: number;
  folder_cached_load_img_s: number;
  /** Which decoders the loader used: 'sharp' alone where the addon or the system's libjpeg is missing. */
  decoders: string;
  headers_img_s: number;
  loader_decode_img_s: number;
  canvas_decode_img_s: number;
  load_before: number[];
  load_after: number[];
}

async function writePhotos(dir: string, count: number, side: number): Promise<string[]> {
  const files: string[] = [];
  for (const cls of ['a', 'b']) await mkdir(join(dir, cls), { recursive: true });
  for (let i = 0; i < count; i++) {
    const raw = Buffer.alloc(side * side * 3);
    for (let p = 0; p < side * side; p++) {
      const x = p % side;
      const y = Math.floor(p / side);
      raw[3 * p] = (x + i * 7) & 255;
      raw[3 * p + 1] = (y * 2 + i) & 255;
      raw[3 * p + 2] = ((x ^ y) + ((p * 2654435761) >>> 28)) & 255;
    }
    const path = join(dir, i % 2 ? 'a' : 'b', `${i}.jpg`);
    await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 90 }).toFile(path);
    files.push(path);
  }
  return files;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

/** The same work with Skia: decode, draw scaled into a 32x32 canvas (centre crop is a no-op for squares), read the pixels. */
async function canvasDecode(files: readonly string[], size: number): Promise<void> {
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext('2d');
  for (const f of files) {
    const img = await loadImage(await readFile(f));
    ctx.drawImage(img, 0, 0, size, size);
    ctx.getImageData(0, 0, size, size);
  }
}

export async function runDecodeBenchmark({ photos }: { photos: number }): Promise<DecodeBenchResult> {
  const side = 256;
  const dir = await mkdtemp(join(tmpdir(), 'kilosecond-bench-decode-'));
  try {
    const files = await writePhotos(join(dir, 'photos'), photos, side);
    const loadBefore = loadavg();
    const settings = { size: 32, channels: 3 as const, resize: 'crop' as const };
    const parallel = 4 * availableParallelism();
    const sharpSeconds = await timed(async () => {
      for (let i = 0; i < files.length; i += parallel) await Promise.all(files.slice(i, i + parallel).map((f) => decodeImage(f, settings)));
    });
    const cacheDir = join(dir, 'cache');
    const folderSeconds = await timed(() => loadImageFolder(join(dir, 'photos'), { cacheDir, imageSize: 32 }));
    const cachedSeconds = await timed(() => loadImageFolder(join(dir, 'photos'), { cacheDir, imageSize: 32 }));
    let headers: Header[] = [];
    const headersSeconds = await timed(async () => {
      headers = (await readHeaders(files)).map((h, i) => {
        if ('error' in h) throw new Error(`${files[i]}: ${h.error}`);
        return h;
      });
    });
    const decodeSeconds = await timed(() => decodeFiles(files.map((path, i) => ({ path, header: headers[i]! })), settings));
    const canvasSeconds = await timed(() => canvasDecode(files, 32));
    return {
      photos, side,
      sharp_decode_img_s: photos / sharpSeconds,
      folder_load_img_s: photos / folderSeconds,
      folder_cached_load_img_s: photos / cachedSeconds,
      decoders: decoderVersion(),
      headers_img_s: photos / headersSeconds,
      loader_decode_img_s: photos / decodeSeconds,
      canvas_decode_img_s: photos / canvasSeconds,
      load_before: loadBefore,
      load_after: loadavg(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatDecodeBenchmark(r: DecodeBenchResult): string {
  return [
    `load average before: ${r.load_before.map((l) => l.toFixed(2)).join(' ')}; after: ${r.load_after.map((l) => l.toFixed(2)).join(' ')}`,
    `| ${r.photos} JPEG photos ${r.side}x${r.side} -> 32x32x3 | photos/s |`,
    '|---|---:|',
    `| sharp decode + resize (all cores) | ${r.sharp_decode_img_s.toFixed(0)} |`,
    `| whole folder load, empty cache (scan, headers, decode, cache write) | ${r.folder_load_img_s.toFixed(0)} |`,
    `| whole folder load, from the cache | ${r.folder_cached_load_img_s.toFixed(0)} |`,
    `| the loader's headers alone (${r.decoders}, all cores) | ${r.headers_img_s.toFixed(0)} |`,
    `| the loader's decode alone (${r.decoders}, all cores) | ${r.loader_decode_img_s.toFixed(0)} |`,
    `| @napi-rs/canvas decode + draw scaled + read (one thread) | ${r.canvas_decode_img_s.toFixed(0)} |`,
  ].join('\n');
}
