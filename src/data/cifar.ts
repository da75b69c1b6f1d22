/**
 * @file The CIFAR-10 binary tarball (cifar-10-binary.tar.gz): inside `cifar-10-batches-bin/`,
 * data_batch_1..5.bin and test_batch.bin, each 10,000 records of 3073 bytes: one label byte then
 * the 32x32 image as planes (1024 R, 1024 G, 1024 B). We convert to HWC on read.
 */
import { Parser, type ReadEntry } from 'tar';
import { UserError } from '../core/errors.js';
import { gunzipFile } from './gzip.js';

export const cifarSide = 32;
const planeBytes = cifarSide * cifarSide;
export const cifarRecordBytes = 1 + 3 * planeBytes;
export const cifarRecordsPerFile = 10000;
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
export function parseCifarBatch(name: string, data: Uint8Array): CifarPart {
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

/** Reads the train and/or test parts out of the tarball's bytes. */
export async function readCifarTarball(file: string, data: Uint8Array, want: { train: boolean; test: boolean }): Promise<{ train?: CifarPart; test?: CifarPart }> {
  const members = await untar(file, gunzipFile(file, data));
  const member = (name: string) => {
    const bytes = members.get(name);
    if (!bytes) throw new UserError(`${file}: the archive has no cifar-10-batches-bin/${name}; is this the binary version (cifar-10-binary.tar.gz)?`);
    if (bytes.length < cifarRecordsPerFile * cifarRecordBytes) {
      throw new UserError(`${file}: ${name} is short: ${bytes.length} bytes, expected ${cifarRecordsPerFile * cifarRecordBytes} (${cifarRecordsPerFile} records of ${cifarRecordBytes}); it ends at byte ${bytes.length}, download the archive again`);
    }
    return parseCifarBatch(`${file}: ${name}`, bytes);
  };
  const out: { train?: CifarPart; test?: CifarPart } = {};
  if (want.train) out.train = concatParts(cifarTrainFiles.map(member));
  if (want.test) out.test = member(cifarTestFile);
  return out;
}
