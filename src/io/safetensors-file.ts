/**
 * @file safetensors files on disk: nn/safetensors.ts's bytes, read whole and written atomically,
 * with every failure a UserError that names the file.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { encodeSafetensors, parseSafetensors, type SafeFile, type SafeTensor } from '../nn/safetensors.js';
import { writeFileAtomicSync } from './atomic.js';

export function readSafetensors(path: string): SafeFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseSafetensors(bytes, path);
}

/** Writes already encoded safetensors bytes atomically: a temporary file beside the target, then rename. */
export function writeSafetensorsBytes(path: string, bytes: Uint8Array): void {
  try {
    writeFileAtomicSync(path, bytes);
  } catch (err) {
    // A full disk already names the file and says what to do (io/atomic.ts).
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

export function writeSafetensors(path: string, tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): void {
  writeSafetensorsBytes(path, encodeSafetensors(tensors, metadata));
}
