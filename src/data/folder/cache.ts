/**
 * @file The decode cache of an image folder: decoded, resized pixels (and every file's header)
 * under the user cache, keyed by each file's path, size and modification time, so that a second
 * run over the same folder starts in seconds and an edited, added or removed file costs exactly
 * its own decode. One file per (folder, settings); rewritten whole, to a temporary name then
 * renamed, so an interrupted write leaves the previous cache or none, never half of one.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { decoderVersion, type ReadOptions } from './decode-files.js';
import type { ImageFile } from './scan.js';

const version = 1;

/** What identifies one file's content without reading it. */
export const fileKey = (f: ImageFile) => `${f.path}\u0000${f.bytes}\u0000${f.mtimeMs}`;

export function defaultCacheDir(): string {
  return join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'kilosecond', 'folders');
}

/** The cache file for one folder, one set of settings (`what` names them, e.g. "32x32x3-crop") and the decoders `o` chooses. */
export function cachePath(cacheDir: string, root: string, what: string, o: ReadOptions = {}): string {
  const id = createHash('sha256').update(`${root}\u0000${what}\u0000${decoderVersion(o)}`).digest('hex').slice(0, 24);
  return join(cacheDir, `${id}-${what}.bin`);
}

/** A cache file: JSON entries (string key -> value) and, for pixel caches, one blob of equal-sized records. */
interface CacheFile<T> { entries: Map<string, { value: T; offset: number }>; blob: Buffer; recordBytes: number }

export async function readCache<T>(path: string): Promise<CacheFile<T> | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    const bytes = await readFile(path);
    const headerBytes = bytes.readUInt32LE(0);
    const header = JSON.parse(bytes.subarray(4, 4 + headerBytes).toString('utf8')) as { version: number; recordBytes: number; entries: Array<[string, T, number]> };
    if (header.version !== version) return undefined;
    const blob = bytes.subarray(4 + headerBytes);
    const entries = new Map(header.entries.map(([k, value, offset]) => [k, { value, offset }]));
    if ([...entries.values()].some((e) => e.offset >= 0 && e.offset + header.recordBytes > blob.length)) return undefined;
    return { entries, blob, recordBytes: header.recordBytes };
  } catch {
    return undefined; // unreadable or cut short: decode again and replace it
  }
}

/** Writes entries (key, value, and optionally a record of `recordBytes`) as one cache file, atomically. */
export async function writeCache<T>(path: string, items: ReadonlyArray<{ key: string; value: T; record?: Uint8Array }>, recordBytes: number): Promise<void> {
  let offset = 0;
  const entries = items.map(({ key, value, record }) => {
    const at = record ? offset : -1;
    if (record) offset += recordBytes;
    return [key, value, at] as const;
  });
  const header = Buffer.from(JSON.stringify({ version, recordBytes, entries }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length, 0);
  await writeFileAtomic(path, Buffer.concat([length, header, ...items.flatMap((i) => (i.record ? [i.record] : []))]));
}
