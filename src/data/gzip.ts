/**
 * @file gunzip with errors that say where: zlib only reports *that* a stream is bad, so on failure
 * we find the first byte at which decoding breaks by bisecting over prefixes of the file (a prefix
 * decodes cleanly with Z_SYNC_FLUSH until it contains the damage). Only the error path pays.
 */
import { constants, gunzipSync } from 'node:zlib';
import { UserError } from '../core/errors.js';

const gzipMagic = [0x1f, 0x8b];

function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === gzipMagic[0] && data[1] === gzipMagic[1];
}

/** Smallest prefix length whose decoding fails: the offset just past the first damaged byte. */
function firstBadPrefix(data: Uint8Array): number {
  const decodes = (n: number) => {
    try {
      gunzipSync(data.subarray(0, n), { finishFlush: constants.Z_SYNC_FLUSH });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0; // decodes
  let hi = data.length; // fails
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (decodes(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The decompressed content of `data` read from `file`. Files that are not gzip are returned as
 * they are when their name does not end in .gz, so that users may keep decompressed copies.
 */
export function gunzipFile(file: string, data: Uint8Array): Buffer {
  if (!isGzip(data)) {
    if (!file.endsWith('.gz')) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const head = Array.from(data.subarray(0, 2), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new UserError(`${file}: not a gzip file (bytes 0-1 are ${head || 'missing'}, expected 1f 8b); delete it and download it again`);
  }
  try {
    return gunzipSync(data);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'Z_BUF_ERROR') {
      throw new UserError(`${file}: truncated gzip file: the compressed stream ends at byte ${data.length} before its end; the download was probably cut short, delete it and download it again`);
    }
    const at = firstBadPrefix(data) - 1;
    const where = at >= data.length - 8
      ? `: it decompresses but fails the gzip check (CRC or length) in the trailer at byte ${data.length - 8}`
      : ` at byte ${at} (where decoding breaks; the damage is there or shortly before)`;
    throw new UserError(`${file}: corrupt gzip data${where} (${(err as Error).message}); delete it and download it again`);
  }
}
