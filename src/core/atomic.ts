/**
 * @file Writes that never leave a half-written file under the final name: write to a temporary
 * name in the same folder, then rename (atomic on POSIX within one file system).
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary name beside `path`, unique to this process and call. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** True for names made by `tempPathFor`: what an interrupted run may have left behind. */
export function isTempName(name: string): boolean {
  return /^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(name);
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
    throw err;
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
    throw err;
  }
}
