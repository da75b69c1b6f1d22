import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create } from 'tar';
import { UserError } from '../core/errors.js';
import { cifarRecordBytes, cifarTestFile, cifarTrainFiles } from './cifar.js';
import { loadDataset } from './datasets.js';

let scratch: string;
before(async () => { scratch = await mkdtemp(join(tmpdir(), 'kilosecond-cifar-')); });
after(async () => { await rm(scratch, { recursive: true, force: true }); });

/** Pixel value of channel c at plane position p of record r in file f: recoverable from the output. */
const pixel = (f: number, r: number, c: number, p: number) => (f * 31 + r * 7 + c * 85 + p) % 256;
const labelOf = (f: number, r: number) => (f + r) % 10;

/** One batch file in the exact CIFAR-10 binary layout: label byte, then R, G, B planes of 1024. */
function batchFile(f: number, records = 10000): Buffer {
  const data = Buffer.alloc(records * cifarRecordBytes);
  for (let r = 0; r < records; r++) {
    const base = r * cifarRecordBytes;
    data[base] = labelOf(f, r);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) data[base + 1 + c * 1024 + p] = pixel(f, r, c, p);
  }
  return data;
}

/** cifar-10-binary.tar.gz with the given members of cifar-10-batches-bin/, written into a folder. */
async function tarball(name: string, members: Record<string, Buffer>): Promise<string> {
  const dir = join(scratch, name);
  const inner = join(dir, 'src', 'cifar-10-batches-bin');
  await mkdir(inner, { recursive: true });
  for (const [file, bytes] of Object.entries(members)) await writeFile(join(inner, file), bytes);
  await create({ gzip: { level: 1 }, cwd: join(dir, 'src'), file: join(dir, 'cifar-10-binary.tar.gz') }, ['cifar-10-batches-bin']);
  await rm(join(dir, 'src'), { recursive: true });
  return dir;
}

test('a generated tarball in the exact binary format loads: counts, HWC order, labels', async () => {
  const members: Record<string, Buffer> = { [cifarTestFile]: batchFile(5), 'batches.meta.txt': Buffer.from('airplane\n') };
  cifarTrainFiles.forEach((f, i) => { members[f] = batchFile(i); });
  const dir = await tarball('full', members);
  const { train, test: set, sources } = await loadDataset('cifar10', { dataDir: dir, verify: false, download: false });
  assert.equal(train!.count, 50000);
  assert.equal(set!.count, 10000);
  assert.deepEqual([set!.height, set!.width, set!.channels], [32, 32, 3]);
  assert.match(sources['cifar-10-binary.tar.gz']!, /^[0-9a-f]{32}$/);
  const hist = new Array<number>(10).fill(0);
  for (const l of set!.labels) hist[l]!++;
  assert.deepEqual(hist, new Array(10).fill(1000));
  // Image 23456 of train is record 3456 of data_batch_3 (f = 2); pixel (y=5, x=7) channel G.
  const [f, r, y, x, c] = [2, 3456, 5, 7, 1];
  assert.equal(train!.labels[23456], labelOf(f, r));
  assert.equal(train!.images[23456 * 3072 + (y * 32 + x) * 3 + c], pixel(f, r, c, y * 32 + x));
  assert.equal(set!.images[9999 * 3072 + 3071], pixel(5, 9999, 2, 1023));
  // The real tarball's checksum is enforced unless verification is off.
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, download: false }), (e) => e instanceof UserError && /md5 of the file is .* expected c32a1d4a/.test(e.message));
});

test('a short batch file names the member, the record and the byte offset', async () => {
  const short = batchFile(5).subarray(0, 9999 * cifarRecordBytes + 100);
  const dir = await tarball('short', { [cifarTestFile]: short });
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, verify: false, split: 'test', download: false }),
    (e) => e instanceof UserError && /cifar-10-binary\.tar\.gz: test_batch\.bin is short: 30727027 bytes, expected 30730000.*ends at byte 30727027/.test(e.message));
});

test('a label out of range names the record and byte offset', async () => {
  const bad = batchFile(5);
  bad[1234 * cifarRecordBytes] = 10;
  const dir = await tarball('label', { [cifarTestFile]: bad });
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, verify: false, split: 'test', download: false }),
    (e) => e instanceof UserError && /test_batch\.bin: label 10 out of range 0\.\.9 at byte 3792082 \(record 1234\)/.test(e.message));
});

test('a truncated tarball and a tarball without the binary batches are user errors', async () => {
  const dir = await tarball('trunc', { [cifarTestFile]: batchFile(5) });
  const path = join(dir, 'cifar-10-binary.tar.gz');
  await truncate(path, 4000);
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, verify: false, split: 'test', download: false }), (e) => e instanceof UserError && /truncated gzip file: the compressed stream ends at byte 4000/.test(e.message));
  const other = await tarball('other', { 'readme.txt': Buffer.from('python version') });
  await assert.rejects(loadDataset('cifar10', { dataDir: other, verify: false, split: 'test', download: false }), (e) => e instanceof UserError && /no cifar-10-batches-bin\/test_batch\.bin/.test(e.message));
});
