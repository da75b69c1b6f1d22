/**
 * @file Writes that never leave a half-written file under the final name: write to a temporary
 * name in the same folder, then rename (atomic on POSIX within one file system).
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';

/** A temporary name beside `path`, unique to this process and call. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * True for a name made by `tempPathFor` whose writer has ended: what an interrupted run left
 * behind. A live process's file is still being written (two runs precomputing the same shards).
 */
export function isAbandonedTempName(name: string): boolean {
  const writer = /^\..+\.tmp-(\d+)-[0-9a-f]{8}$/.exec(name);
  if (!writer) return false;
  const pid = Number(writer[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Errors of the disk rather than of the program: the disk or the user's quota is full. */
const fullDiskCodes = new Set(['ENOSPC', 'EDQUOT']);

/**
 * A full disk is the user's to fix, not a bug: it becomes a UserError naming the file (the one
 * under its final name is untouched, since only the temporary file was being written).
 */
function writeFailure(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined || !fullDiskCodes.has(code)) return err;
  return new UserError(`cannot write ${path}: the disk is full (${code}); the file there before, if any, is unchanged. Free some space and run the command again`);
}

/** Runs `write(tmp)`, then renames tmp to path; on any failure the temporary file is removed. */
export async function withTempFile<T>(path: string, write: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(path);
  try {
    const result = await write(tmp);
    await rename(tmp, path);
    return result;
  } catch (err) {
    await rm(tmp, { force: true });
    throw writeFailure(path, err);
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await withTempFile(path, (tmp) => writeFile(tmp, data));
}

/** The synchronous twin of writeFileAtomic, for callers that cannot await. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeFailure(path, err);
  }
}
