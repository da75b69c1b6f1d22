import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create, extract } from 'tar';
import { UserError } from '../core/errors.js';
import { cifarRecordBytes, cifarTestFile, cifarTrainFiles } from './cifar.js';
import { loadDataset } from './load-dataset.js';
import { sharedDir } from '../testing/paths.js';

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
  assert.deepEqual(Object.keys(sources).sort(), [...cifarTrainFiles, cifarTestFile].sort());
  const hist = new Array<number>(10).fill(0);
  for (const l of set!.labels) hist[l]!++;
  assert.deepEqual(hist, new Array(10).fill(1000));
  // Image 23456 of train is record 3456 of data_batch_3 (f = 2); pixel (y=5, x=7) channel G.
  const [f, r, y, x, c] = [2, 3456, 5, 7, 1];
  assert.equal(train!.labels[23456], labelOf(f, r));
  assert.equal(train!.images[23456 * 3072 + (y * 32 + x) * 3 + c], pixel(f, r, c, y * 32 + x));
  assert.equal(set!.images[9999 * 3072 + 3071], pixel(5, 9999, 2, 1023));
  // Each member's official checksum is enforced unless verification is off: these are not CIFAR-10.
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, download: false }),
    (e) => e instanceof UserError && /cifar-10-binary\.tar\.gz: data_batch_1\.bin: md5 is [0-9a-f]{32}, expected 5dd7e06a14cb22eb9f671a540d1b7c25 \(the official data_batch_1\.bin\).*or pass verify: false to use it anyway$/.test(e.message));
});

test('the extracted cifar-10-batches-bin/ folder loads, beside it or pointed at; a missing member is named', async () => {
  const dir = join(scratch, 'extracted');
  const inner = join(dir, 'cifar-10-batches-bin');
  await mkdir(inner, { recursive: true });
  await writeFile(join(inner, cifarTestFile), batchFile(5));
  for (const dataDir of [dir, inner]) {
    const { test: set } = await loadDataset('cifar10', { dataDir, verify: false, split: 'test', download: false });
    assert.equal(set!.images[9999 * 3072 + 3071], pixel(5, 9999, 2, 1023));
  }
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, verify: false, download: false }),
    (e) => e instanceof UserError && e.message.startsWith(`${join(inner, 'data_batch_1.bin')} is missing`));
  await writeFile(join(inner, cifarTestFile), batchFile(5).subarray(0, 5000));
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, verify: false, split: 'test', download: false }),
    (e) => e instanceof UserError && e.message.startsWith(`${join(inner, cifarTestFile)} is short: 5000 bytes, expected 30730000`));
});

const realCifar = join(sharedDir, 'data', 'cifar10');

test('the real CIFAR-10 (a re-packed tarball) loads verified: counts, member md5s, 5000 per class, first labels', async () => {
  const { train, test: set, sources } = await loadDataset('cifar10', { dataDir: realCifar, download: false });
  assert.equal(train!.count, 50000);
  assert.equal(set!.count, 10000);
  assert.deepEqual(sources, {
    'data_batch_1.bin': '5dd7e06a14cb22eb9f671a540d1b7c25', 'data_batch_2.bin': '5ea93a67294ea407fff1d09f752e9692',
    'data_batch_3.bin': '942cd6a4bcdd0dd3c604fbe906cb4421', 'data_batch_4.bin': 'ae636b3ba5c66a11e91e8cb52e771fcb',
    'data_batch_5.bin': '53f37980c15c3d472c316c40844f3f0d', 'test_batch.bin': '803d5f7f4d78ea53de84dbe85f74fb6d',
  });
  const histogram = (labels: Uint8Array) => labels.reduce((h, l) => { h[l]!++; return h; }, new Array<number>(10).fill(0));
  assert.deepEqual(histogram(train!.labels), new Array(10).fill(5000));
  assert.deepEqual(histogram(set!.labels), new Array(10).fill(1000));
  assert.deepEqual([...train!.labels.subarray(0, 5)], [6, 9, 9, 4, 1]);
  assert.deepEqual([...set!.labels.subarray(0, 5)], [3, 8, 8, 0, 6]); // cat, ship, ship, airplane, frog
});

test('the real batches, extracted, load verified; a batch swapped for another is named by its md5', async () => {
  const dir = join(scratch, 'real-extracted');
  await mkdir(dir);
  await extract({ file: join(realCifar, 'cifar-10-binary.tar.gz'), cwd: dir });
  const inner = join(dir, 'cifar-10-batches-bin');
  const { test: set } = await loadDataset('cifar10', { dataDir: inner, split: 'test', download: false });
  assert.equal(set!.labels[0], 3);
  await copyFile(join(inner, 'data_batch_2.bin'), join(inner, cifarTestFile));
  await assert.rejects(loadDataset('cifar10', { dataDir: dir, split: 'test', download: false }),
    (e) => e instanceof UserError && e.message.startsWith(`${join(inner, cifarTestFile)}: md5 is 5ea93a67294ea407fff1d09f752e9692, expected 803d5f7f4d78ea53de84dbe85f74fb6d`));
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
