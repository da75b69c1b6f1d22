import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UserError } from '../core/errors.js';
import { augmentImage, defaultAugment, meanPixel } from './augment.js';
import type { Batch } from './batch.js';
import { datasetInfo, type ImageSet } from './datasets.js';
import { decodeImageExample } from './example.js';
import { createTrainLoader } from './loader.js';
import { precompute, type PrecomputeOptions } from './precompute.js';
import { epochPermutation } from './prng.js';
import { readRecords } from './tfrecord.js';

let scratch: string;
before(async () => { scratch = await mkdtemp(join(tmpdir(), 'kilosecond-precompute-')); });
after(async () => { await rm(scratch, { recursive: true, force: true }); });

const info = datasetInfo('cifar10');
const count = 300;
const train: ImageSet = {
  images: Uint8Array.from({ length: count * 3072 }, (_, i) => (i * 2654435761) >>> 24),
  labels: Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10),
  count, height: 32, width: 32, channels: 3,
};
const base = (outDir: string): PrecomputeOptions => ({
  info, train, sources: { 'cifar-10-binary.tar.gz': 'generated' }, outDir, epochs: 2, seed: 5, augment: { ...defaultAugment }, shardSize: 128,
});

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('shards hold each epoch\'s shuffled, augmented images as Examples, and the manifest lists them', async () => {
  const dir = join(scratch, 'basic');
  const { manifest, reusedEpochs } = await precompute(base(dir));
  assert.equal(reusedEpochs, 0);
  assert.equal(manifest.epochs.length, 2);
  assert.deepEqual(manifest.epochs[1]!.map((s) => [s.file, s.records]), [
    ['epoch-001.shard-00000-of-00003.tfrecord', 128], ['epoch-001.shard-00001-of-00003.tfrecord', 128], ['epoch-001.shard-00002-of-00003.tfrecord', 44],
  ]);
  const onDisk = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(onDisk.config.sources, { 'cifar-10-binary.tar.gz': 'generated' });
  assert.equal(onDisk.config.seed, 5);
  const shard = await readFile(join(dir, manifest.epochs[1]![1]!.file));
  const examples = [...readRecords(shard)].map(decodeImageExample);
  const order = epochPermutation(count, 5, 1);
  const expected = new Uint8Array(3072);
  for (const [k, e] of examples.entries()) {
    const index = order[128 + k]!;
    assert.equal(e.index, index);
    assert.equal(e.label, train.labels[index]);
    assert.deepEqual([e.height, e.width, e.channels], [32, 32, 3]);
    if (k < 5) {
      augmentImage(defaultAugment, 5, 1, index, train.images, 32, 32, 3, expected, 0, meanPixel(info.mean));
      assert.deepEqual(new Uint8Array(e.image), expected);
    }
  }
});

test('the loader streams the shards into the same batches the online mode makes', async () => {
  const dir = join(scratch, 'basic');
  const fromShards = createTrainLoader({ mode: 'precomputed', dir, info, batchSize: 64, dropLast: false, readAhead: 2 });
  const online = createTrainLoader({ mode: 'online', info, train, seed: 5, batchSize: 64, dropLast: false, workers: 0 });
  try {
    for (const e of [0, 1]) {
      const a = await collect(fromShards.epoch(e));
      const b = await collect(online.epoch(e));
      assert.equal(a.length, 5);
      assert.deepEqual(a.map((x) => x.labels), b.map((x) => x.labels));
      assert.deepEqual(a.map((x) => x.images), b.map((x) => x.images));
    }
    await assert.rejects(collect(fromShards.epoch(2)), (e) => e instanceof UserError && /epoch 2 was not precomputed.*with epochs: 3 or more$/.test(e.message));
  } finally {
    await fromShards.close();
    await online.close();
  }
});

test('a second run with the same config reuses the shards; more epochs add only the new ones; a new seed redoes all', async () => {
  const dir = join(scratch, 'reuse');
  await precompute(base(dir));
  const first = join(dir, 'epoch-000.shard-00000-of-00003.tfrecord');
  const before = (await stat(first)).mtimeMs;
  assert.equal((await precompute(base(dir))).reusedEpochs, 2);
  const longer = await precompute({ ...base(dir), epochs: 3 });
  assert.equal(longer.reusedEpochs, 2);
  assert.equal(longer.manifest.epochs.length, 3);
  assert.equal((await stat(first)).mtimeMs, before);
  const reseeded = await precompute({ ...base(dir), seed: 6 });
  assert.equal(reseeded.reusedEpochs, 0);
  assert.notEqual((await stat(first)).mtimeMs, before);
});

test('an interrupted run leaves only finished epochs in the manifest and no temporary files; the next run resumes', async () => {
  const dir = join(scratch, 'interrupted');
  let shards = 0;
  await assert.rejects(precompute({ ...base(dir), onProgress: () => { if (++shards === 4) throw new Error('killed'); } }), /killed/);
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  assert.equal(m.epochs.length, 1);
  // Its writer, pid 4194305, is above Linux's largest pid: a process that has ended.
  await writeFile(join(dir, '.epoch-001.shard-00001-of-00003.tfrecord.tmp-4194305-abcdef01'), 'half a shard');
  const resumed = await precompute(base(dir));
  assert.equal(resumed.reusedEpochs, 1);
  assert.ok((await readdir(dir)).every((f) => !f.includes('.tmp-')));
});

test('a manifest that does not match its shards, or is damaged, is a clear error', async () => {
  const dir = join(scratch, 'tamper');
  const { manifest } = await precompute({ ...base(dir), epochs: 1 });
  const read = () => collect(createTrainLoader({ mode: 'precomputed', dir, info, batchSize: 100, workers: 0 }).epoch(0));
  const shard = join(dir, manifest.epochs[0]![1]!.file);
  const bytes = await readFile(shard);
  const flipped = Buffer.from(bytes);
  flipped[5000] ^= 1;
  await writeFile(shard, flipped);
  await assert.rejects(read(), (e) => e instanceof UserError && e.message.includes(shard) && /CRC32C [0-9a-f]{8}, the manifest says/.test(e.message));
  await writeFile(shard, bytes.subarray(0, 1000));
  await assert.rejects(read(), (e) => e instanceof UserError && /1000 bytes, the manifest says/.test(e.message));
  await rm(shard);
  await assert.rejects(read(), (e) => e instanceof UserError && /cannot be read \(ENOENT\)/.test(e.message));
  await writeFile(join(dir, 'manifest.json'), '{"format": "kilosecond-precomputed-augmentation", "version": 1');
  await assert.rejects(read(), (e) => e instanceof UserError && /manifest\.json: not valid JSON/.test(e.message));
  await rm(join(dir, 'manifest.json'));
  await assert.rejects(read(), (e) => e instanceof UserError && /manifest\.json not found: run precompute with epochs N and outDir: '.*' first$/.test(e.message));
  const wrong = createTrainLoader({ mode: 'precomputed', dir: join(scratch, 'basic'), info: datasetInfo('mnist'), batchSize: 10 });
  await assert.rejects(collect(wrong.epoch(0)), (e) => e instanceof UserError && /hold cifar10 \(32x32x3\), not mnist/.test(e.message));
});

test('bad options are user errors', async () => {
  const dir = join(scratch, 'opts');
  await assert.rejects(precompute({ ...base(dir), epochs: 0 }), (e) => e instanceof UserError && /^epochs 0: /.test(e.message));
  await assert.rejects(precompute({ ...base(dir), shardSize: 0 }), (e) => e instanceof UserError && /^shardSize 0: /.test(e.message));
  await assert.rejects(precompute({ ...base(dir), augment: { ...defaultAugment, pad: 40 } }), (e) => e instanceof UserError && /^pad 40: /.test(e.message));
});
