/**
 * @file CIFAR-10's binary version: cifar-10-binary.tar.gz, or the `cifar-10-batches-bin/` folder
 * it unpacks to, holding data_batch_1..5.bin and test_batch.bin, each 10,000 records of 3073
 * bytes: one label byte then the 32x32 image as planes (1024 R, 1024 G, 1024 B). Each batch file
 * is checked against its official md5, whatever holds it. We convert to HWC on read.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { msg, setting, UserError } from '../core/errors.js';
import { gunzipFile } from './gzip.js';
import type { ArchiveSource } from './sources.js';

const cifarSide = 32;
const planeBytes = cifarSide * cifarSide;
export const cifarRecordBytes = 1 + 3 * planeBytes;
const cifarRecordsPerFile = 10000;
export const cifarTrainFiles = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const cifarTestFile = 'test_batch.bin';
const classes = 10;

export interface CifarPart { images: Uint8Array; labels: Uint8Array; count: number }

/** Unpacks the tarball's members into memory, keyed by base name. */
async function untar(file: string, tarBytes: Buffer): Promise<Map<string, Buffer>> {
  const members = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          if (entry.type === 'File') members.set(entry.path.split('/').pop()!, Buffer.concat(chunks));
        });
      },
    });
    parser.on('error', (err: Error) => reject(new UserError(`${file}: not a valid tar archive (${err.message}); delete it and download it again`)));
    parser.on('end', () => resolve());
    parser.end(tarBytes);
  });
  return members;
}

/** Converts one batch file (label + CHW planes per record) to HWC images and labels. */
function parseCifarBatch(name: string, data: Uint8Array): CifarPart {
  if (data.length % cifarRecordBytes !== 0 || data.length === 0) {
    const whole = Math.floor(data.length / cifarRecordBytes);
    throw new UserError(`${name}: CIFAR-10 batch of ${data.length} bytes is not a whole number of ${cifarRecordBytes}-byte records (record ${whole} starting at byte ${whole * cifarRecordBytes} is cut short); the archive is truncated or corrupt, download it again`);
  }
  const count = data.length / cifarRecordBytes;
  const images = new Uint8Array(count * 3 * planeBytes);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * cifarRecordBytes;
    const label = data[base]!;
    if (label >= classes) {
      throw new UserError(`${name}: label ${label} out of range 0..${classes - 1} at byte ${base} (record ${r}); the archive is corrupt, download it again`);
    }
    labels[r] = label;
    const out = r * 3 * planeBytes;
    for (let p = 0; p < planeBytes; p++) {
      images[out + 3 * p] = data[base + 1 + p]!;
      images[out + 3 * p + 1] = data[base + 1 + planeBytes + p]!;
      images[out + 3 * p + 2] = data[base + 1 + 2 * planeBytes + p]!;
    }
  }
  return { images, labels, count };
}

function concatParts(parts: CifarPart[]): CifarPart {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * 3 * planeBytes);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3 * planeBytes);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

/** How errors name a member: its own path in a folder, the archive and its name in a tarball. */
const memberLabel = (path: string, name: string) => (statSync(path).isDirectory() ? join(path, name) : `${path}: ${name}`);

/** The members called `names`, from a tarball or from a folder that holds them. */
async function readMembers(path: string, names: readonly string[]): Promise<Map<string, Buffer>> {
  if (!statSync(path).isDirectory()) {
    const members = await untar(path, gunzipFile(path, await readFile(path)));
    for (const name of names) {
      if (!members.has(name)) throw new UserError(`${path}: the archive has no cifar-10-batches-bin/${name}; is this the binary version (cifar-10-binary.tar.gz)?`);
    }
    return members;
  }
  const members = new Map<string, Buffer>();
  for (const name of names) {
    try {
      members.set(name, await readFile(join(path, name)));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(err as Error).message})`;
      throw new UserError(`${join(path, name)} ${why}: a CIFAR-10 folder holds the six batch files of the binary version (data_batch_1..5.bin, test_batch.bin); extract cifar-10-binary.tar.gz there again, or put the tarball itself in its place`);
    }
  }
  return members;
}

/**
 * Reads the batch files `names` from the tarball or folder at `path`, each checked for length and,
 * unless `verify` is false, against its official md5; an error names the member at fault.
 */
export async function readCifarMembers(path: string, source: ArchiveSource, names: readonly string[], verify: boolean): Promise<Map<string, { bytes: Buffer; md5: string }>> {
  const members = await readMembers(path, names);
  const out = new Map<string, { bytes: Buffer; md5: string }>();
  for (const name of names) {
    const bytes = members.get(name)!;
    const at = memberLabel(path, name);
    if (bytes.length < cifarRecordsPerFile * cifarRecordBytes) {
      throw new UserError(`${at} is short: ${bytes.length} bytes, expected ${cifarRecordsPerFile * cifarRecordBytes} (${cifarRecordsPerFile} records of ${cifarRecordBytes}); it ends at byte ${bytes.length}, download the archive again`);
    }
    const md5 = createHash('md5').update(bytes).digest('hex');
    const expected = source.members[name];
    if (verify && md5 !== expected) {
      const advice = msg`delete it to download CIFAR-10 again, or pass ${setting('verify', false)} to use it anyway`;
      throw new UserError(msg`${at}: md5 is ${md5}, expected ${expected} (the official ${name}); it is corrupt, or a batch of another dataset or version: ${advice}`);
    }
    out.set(name, { bytes, md5 });
  }
  return out;
}

/** Reads the train and/or test parts from the tarball or folder at `path`; `sources` gets each member's md5. */
export async function readCifar(path: string, source: ArchiveSource, want: { train: boolean; test: boolean }, verify: boolean, sources: Record<string, string>): Promise<{ train?: CifarPart; test?: CifarPart }> {
  const names = [...(want.train ? cifarTrainFiles : []), ...(want.test ? [cifarTestFile] : [])];
  const members = await readCifarMembers(path, source, names, verify);
  const parse = (name: string) => {
    const member = members.get(name)!;
    sources[name] = member.md5;
    return parseCifarBatch(memberLabel(path, name), member.bytes);
  };
  const out: { train?: CifarPart; test?: CifarPart } = {};
  if (want.train) out.train = concatParts(cifarTrainFiles.map(parse));
  if (want.test) out.test = parse(cifarTestFile);
  return out;
}
