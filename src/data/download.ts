/**
 * @file Fetching a dataset file from a list of mirrors into the cache: streamed to a temporary
 * name, checked, then renamed, so an interrupted or corrupt download never looks like a cached file.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withTempFile } from '../io/atomic.js';

export type ProgressCallback = (done: number, total: number, file?: string) => void;

export class DownloadError extends Error {
  constructor(message: string, readonly attempts: string[]) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** A mirror that stops sending for this long is given up on (the next one is tried). */
const stallMs = 60_000;

async function fetchTo(url: string, tmp: string, name: string, onProgress?: ProgressCallback): Promise<void> {
  const controller = new AbortController();
  let stall = setTimeout(() => controller.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  const alive = () => {
    clearTimeout(stall);
    stall = setTimeout(() => controller.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  };
  try {
    const response = await fetch(url, { redirect: 'follow', signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const total = Number(response.headers.get('content-length') ?? NaN);
    let done = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        done += chunk.length;
        alive();
        onProgress?.(done, total, name);
        callback(null, chunk);
      },
    });
    // Opened before streaming: a write stream that opens lazily can create the file after a
    // failed download was cleaned up, leaving a stray temporary file behind.
    const file = await open(tmp, 'w');
    // The web stream type of fetch and node's differ only nominally.
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), counter, file.createWriteStream());
    if (Number.isFinite(total) && done !== total) throw new Error(`got ${done} of ${total} bytes`);
  } finally {
    clearTimeout(stall);
  }
}

/**
 * Downloads `name` from the first mirror that serves it and passes `check` (which throws to
 * reject the bytes, e.g. on a checksum mismatch), then moves it to `dest`.
 */
export async function downloadFile(
  name: string, mirrors: readonly string[], dest: string,
  opts: { onProgress?: ProgressCallback; check?: (tmp: string) => Promise<void> } = {},
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const attempts: string[] = [];
  for (const mirror of mirrors) {
    const url = new URL(name, mirror.endsWith('/') ? mirror : `${mirror}/`).href;
    try {
      await withTempFile(dest, async (tmp) => {
        await fetchTo(url, tmp, name, opts.onProgress);
        await opts.check?.(tmp);
      });
      return;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message;
      attempts.push(`${url}: ${(err as Error).message}${detail ? ` (${detail})` : ''}`);
    }
  }
  throw new DownloadError(`could not download ${name}`, attempts);
}
