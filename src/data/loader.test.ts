import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sharedDir } from '../testing/paths.js';
import { defaultAugment } from './augment.js';
import { OnlineSource } from './online-source.js';
import type { Batch } from './batch.js';
import { datasetInfo, type ImageSet } from './datasets.js';
import { loadDataset } from './load-dataset.js';
import { testBatches } from './batch.js';
import { createTrainLoader } from './loader.js';
import { epochPermutation } from './prng.js';

const mnist = await loadDataset('mnist', { split: 'test', dataDir: join(sharedDir, 'data', 'mnist'), download: false });
const info = mnist.info;
const set = mnist.test!;

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('test batches: in order, normalised with the dataset mean and std, NHWC, last one partial', () => {
  const batches = [...testBatches(set, info, 512)];
  assert.equal(batches.length, 20);
  assert.equal(batches.at(-1)!.size, 10000 - 19 * 512);
  assert.equal(batches[0]!.images.length, 512 * 784);
  const b = batches[3]!;
  for (const i of [0, 500, 5000, 783 + 784 * 7]) {
    const px = set.images[3 * 512 * 784 + i]!;
    assert.ok(Math.abs(b.images[i]! - (px / 255 - 0.1307) / 0.3081) < 1e-6);
  }
  assert.deepEqual([...b.labels.subarray(0, 5)], [...set.labels.subarray(1536, 1541)]);
});

test('3-channel normalisation uses each channel\'s constants in HWC order', () => {
  const c10 = datasetInfo('cifar10');
  const img: ImageSet = { images: Uint8Array.from({ length: 2 * 3072 }, (_, i) => i % 256), labels: Uint8Array.from([3, 4]), count: 2, height: 32, width: 32, channels: 3 };
  const [b] = [...testBatches(img, c10, 2)];
  for (const i of [0, 1, 2, 3, 3071, 3072 + 5]) {
    const c = i % 3;
    assert.ok(Math.abs(b!.images[i]! - ((i % 256) / 255 - c10.mean[c]!) / c10.std[c]!) < 1e-6);
  }
});

test('online batches: a seeded shuffle of the whole set, dropLast by default, same in workers and in-thread', async () => {
  const opts = { mode: 'online' as const, info, train: set, batchSize: 300, seed: 11 };
  const inThread = createTrainLoader({ ...opts, workers: 0 });
  const threaded = createTrainLoader({ ...opts, workers: 2, readAhead: 3 });
  try {
    const a = await collect(inThread.epoch(1));
    const b = await collect(threaded.epoch(1));
    assert.equal(a.length, 33); // 10000 / 300, the partial batch dropped
    assert.deepEqual(a.map((x) => x.images), b.map((x) => x.images));
    assert.deepEqual(a.map((x) => x.labels), b.map((x) => x.labels));
    const order = epochPermutation(10000, 11, 1);
    assert.deepEqual([...a[2]!.labels], [...order.subarray(600, 900)].map((i) => set.labels[i]));
    const again = await collect(threaded.epoch(2));
    assert.notDeepEqual(again[0]!.labels, a[0]!.labels);
    const all = await collect(createTrainLoader({ ...opts, workers: 0, dropLast: false }).epoch(0));
    assert.equal(all.reduce((n, x) => n + x.size, 0), 10000);
    assert.equal(all.at(-1)!.size, 100);
  } finally {
    await inThread.close();
    await threaded.close();
  }
});

test('mode none: the shuffled images exactly as test batches would normalise them', async () => {
  const loader = createTrainLoader({ mode: 'none', info, train: set, batchSize: 100, seed: 3, workers: 0 });
  const [first] = await collect(loader.epoch(0));
  const order = epochPermutation(10000, 3, 0);
  const normalised = [...testBatches(set, info, 1)];
  for (const k of [0, 42, 99]) assert.deepEqual(first!.images.subarray(k * 784, (k + 1) * 784), normalised[order[k]!]!.images);
});

test('read-ahead is bounded: holding one batch, at most readAhead more are made', async () => {
  const produced: number[] = [];
  const original = OnlineSource.prototype.produce;
  OnlineSource.prototype.produce = function (this: OnlineSource, e: number, b: number) {
    produced.push(b);
    return original.call(this, e, b);
  };
  try {
    const loader = createTrainLoader({ mode: 'online', info, train: set, batchSize: 50, workers: 0, readAhead: 3, augment: defaultAugment });
    const it = loader.epoch(0)[Symbol.asyncIterator]();
    await it.next();
    assert.equal(produced.length, 4);
    await it.next();
    assert.equal(produced.length, 5);
    await it.return!();
  } finally {
    OnlineSource.prototype.produce = original;
  }
});

test('the next epoch\'s first batches are made as an epoch ends, and asking for another epoch still gives the right batches', async () => {
  const opts = { mode: 'online' as const, info, train: set, batchSize: 2500, seed: 4, workers: 0, readAhead: 2 };
  const fresh = async (e: number) => collect(createTrainLoader(opts).epoch(e));
  const produced: Array<[number, number]> = [];
  const original = OnlineSource.prototype.produce;
  OnlineSource.prototype.produce = function (this: OnlineSource, e: number, b: number) {
    produced.push([e, b]);
    return original.call(this, e, b);
  };
  try {
    const loader = createTrainLoader(opts);
    const e0 = await collect(loader.epoch(0));
    assert.deepEqual(produced.slice(-2), [[1, 0], [1, 1]]);
    assert.deepEqual(await collect(loader.epoch(1)), await fresh(1));
    assert.deepEqual(await collect(loader.epoch(3)), await fresh(3)); // epoch 2's early batches discarded
    assert.deepEqual(e0, await fresh(0));
  } finally {
    OnlineSource.prototype.produce = original;
  }
});
