/**
 * @file Many image files read at once, as the folder loader and `predict` both need them. JPEGs
 * go to the addon's libjpeg path (native/jpeg.cc: decoded already shrunk, a batch of files per
 * call, one call per core on the libuv pool); every other file, and every JPEG that path leaves
 * (CMYK, a foreign colour profile, smaller than the input, damaged), goes to sharp (decode.ts),
 * which decodes it or says what is wrong with it. Without the addon or the system's libjpeg,
 * sharp reads everything.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { jpegReader, type JpegReader } from '../../backends/cpu/native.js';
import { decodeImage, firstLine, headerProbe, probeImage, type DecodeSettings, type Header, type Probe } from './decode.js';

export type Decoded = { pixels: Uint8Array } | { error: string };

/** Which JPEG decoder to use: the addon's when left out; false for sharp alone. */
export interface ReadOptions { jpeg?: JpegReader | false }

/**
 * Names the decoders that make a folder's pixels; the decode cache is keyed by it, so that pixels
 * from another decoder are never mixed with these. Change it whenever a file's pixels change.
 */
export const decoderVersion = (o: ReadOptions = {}) => (reader(o) ? 'sharp+libjpeg-1' : 'sharp-1');

const reader = (o: ReadOptions) => (o.jpeg === undefined ? jpegReader() : o.jpeg || undefined);

const jpegNames = new Set(['.jpg', '.jpeg', '.jpe', '.jfif']);
const looksLikeJpeg = (path: string) => jpegNames.has(extname(path).toLowerCase());

/** Files per native call: few enough for progress and for the cores to share the work evenly, enough to cost little per file. */
const batchFiles = 32;

/** libvips decodes on its own threads: a few images in flight per core keep them all busy. */
const sharpInFlight = () => 4 * availableParallelism();

/** Runs `work` on every item, `parallel` at a time, in any order; results in item order. The first failure stops it. */
export async function mapParallel<T, R>(items: readonly T[], parallel: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!, i);
      } catch (err) {
        next = items.length; // the other workers start nothing more
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}

/**
 * `native` on the JPEG-named items in batches (one per core at a time), then `fallback` on each
 * item it gave no result for; `onDone` counts items as they finish.
 */
async function twoWay<R>(
  paths: readonly string[], jpeg: JpegReader | undefined, native: (jpeg: JpegReader, chunk: string[]) => Promise<Array<R | undefined>>,
  fallback: (path: string, index: number) => Promise<R>, onDone: (done: number) => void,
): Promise<R[]> {
  const results = new Array<R | undefined>(paths.length);
  let done = 0;
  if (jpeg) {
    const jpegs = paths.flatMap((p, i) => (looksLikeJpeg(p) ? [i] : []));
    const batches = Array.from({ length: Math.ceil(jpegs.length / batchFiles) }, (_, b) => jpegs.slice(b * batchFiles, (b + 1) * batchFiles));
    await mapParallel(batches, availableParallelism(), async (batch) => {
      const got = await native(jpeg, batch.map((i) => paths[i]!));
      batch.forEach((i, k) => {
        results[i] = got[k];
        if (got[k] !== undefined) onDone(++done);
      });
    });
  }
  await mapParallel(paths, sharpInFlight(), async (path, i) => {
    if (results[i] !== undefined) return;
    results[i] = await fallback(path, i);
    onDone(++done);
  });
  return results as R[];
}

/** Every file's header, or why it is not a decodable image. */
export function readHeaders(paths: readonly string[], onDone: (done: number) => void = () => {}, o: ReadOptions = {}): Promise<Probe[]> {
  return twoWay(paths, reader(o), async (jpeg, chunk) => {
    const { headers } = await jpeg.readJpegs(chunk, 0, 3, false);
    return chunk.map((_, k) => {
      const [read, width, height, channels, orientation] = headers.subarray(5 * k, 5 * k + 5);
      return read ? headerProbe({ width: width!, height: height!, channels: channels!, orientation: orientation!, format: 'jpeg', space: channels === 1 ? 'b-w' : 'srgb' }) : undefined;
    });
  }, probeImage, onDone);
}

/** Every file as `settings` say, given its header; a file that cannot be decoded is an `error`. */
export function decodeFiles(files: ReadonlyArray<{ path: string; header: Header }>, settings: DecodeSettings, onDone: (done: number) => void = () => {}, o: ReadOptions = {}): Promise<Decoded[]> {
  const record = settings.size * settings.size * settings.channels;
  const jpeg = reader(o);
  const isJpeg = new Set(files.flatMap((f) => (f.header.format === 'jpeg' ? [f.path] : [])));
  return twoWay<Decoded>(files.map((f) => f.path), jpeg, async (native, chunk) => {
    const wanted = chunk.filter((p) => isJpeg.has(p));
    const { headers, pixels } = await native.readJpegs(wanted, settings.size, settings.channels, settings.resize === 'stretch');
    const byPath = new Map(wanted.map((p, k): [string, Decoded | undefined] => [p, headers[5 * k] ? { pixels: pixels.subarray(k * record, (k + 1) * record) } : undefined]));
    return chunk.map((p) => byPath.get(p));
  }, async (path) => {
    try {
      return { pixels: await decodeImage(path, settings) };
    } catch (err) {
      return { error: firstLine(err) };
    }
  }, onDone);
}
