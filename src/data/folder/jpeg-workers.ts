/**
 * @file Small JPEGs decoded with Skia (@napi-rs/canvas) in worker threads, one per core: for a
 * folder of small photos sharp's cost is per file, not per pixel, and Skia's is lower. Both give
 * the same kind of input: the EXIF orientation applied (Skia does it as sharp does; the tests
 * check all eight), the centre crop or the whole image squashed, greyscale as libvips's
 * luminance, no alpha. Resampling differs a little; the tests bound by how much. Whatever Skia
 * might decode unlike sharp is left to sharp (jpeg-worker.ts says which files).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { decodeImage, firstLine, type DecodeSettings, type Probe } from './decode.js';
import type { JpegReply, JpegRequest } from './jpeg-worker.js';

type Header = Exclude<Probe, { error: string }>;

/** Skia decodes the whole image where sharp shrinks a JPEG while decoding it: above about this many pixels sharp is the faster. */
const skiaMaxPixels = 512 * 512;

/** Whether a file goes to Skia: a small JPEG in RGB or grey (Skia's CMYK colours are not sharp's). */
export const skiaDecodes = (p: Header) => p.format === 'jpeg' && (p.space === 'srgb' || p.space === 'b-w') && p.width * p.height <= skiaMaxPixels;

interface Pending { path: string; worker: Worker; resolve(pixels: Uint8Array | undefined): void; reject(err: Error): void }

/**
 * One file decoded as the folder loader decodes it, so that `predict` sees the pixels training
 * saw: a small JPEG by Skia (`jpegs()` gives the threads, started on first use), anything else
 * and anything Skia hands back by sharp. A file sharp cannot decode is an `error`; threads that
 * stopped reject.
 */
export async function decodeFile(path: string, header: Header, settings: DecodeSettings, jpegs: () => JpegDecoders): Promise<{ pixels: Uint8Array } | { error: string }> {
  if (skiaDecodes(header)) {
    const pixels = await jpegs().decode(path, header);
    if (pixels) return { pixels };
  }
  try {
    return { pixels: await decodeImage(path, settings) };
  } catch (err) {
    return { error: firstLine(err) };
  }
}

/** The worker threads of one load, all decoding to the same settings; close them when the load ends. */
export class JpegDecoders {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing = false;
  /** Why a thread stopped: every later request fails with it. */
  private failure: string | undefined;

  constructor(settings: DecodeSettings, count = availableParallelism(), script = new URL('./jpeg-worker.js', import.meta.url)) {
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker(script, { workerData: settings });
      w.on('message', (reply: JpegReply) => {
        const p = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        p?.resolve(reply.pixels);
      });
      w.on('error', (err) => this.stopped(w, err.message));
      w.on('exit', (code) => this.stopped(w, `exit code ${code}`));
      return w;
    });
  }

  /** A thread that stops fails the files it held, by name; the others finish theirs. */
  private stopped(w: Worker, why: string): void {
    if (this.closing) return;
    this.failure ??= `the JPEG decoding thread stopped (${why})`;
    for (const [id, p] of this.pending) {
      if (p.worker !== w) continue;
      this.pending.delete(id);
      p.reject(new Error(`${p.path}: ${this.failure}`));
    }
  }

  /** The pixels of one file whose header `size` gives; undefined when sharp should decode it instead. */
  decode(path: string, size: { width: number; height: number }): Promise<Uint8Array | undefined> {
    if (this.failure || this.closing) return Promise.reject(new Error(`${path}: ${this.failure ?? 'the JPEG decoders were closed'}`));
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length]!;
    const req: JpegRequest = { id, path, width: size.width, height: size.height };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { path, worker, resolve, reject });
      worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const p of this.pending.values()) p.reject(new Error(`${p.path}: the JPEG decoders were closed`));
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
