/**
 * @file `fit` as a library caller uses it: arrays made in memory, no run folder. It learns a task
 * a network can only solve by looking (where a bright square is), calls its hooks in order, trains
 * the same from streamed (async) batches as from in-memory ones, and stops part-way when asked.
 */
import { strict as assert } from 'node:assert';
import { after, before, it } from 'node:test';
import { createBackend } from '../backends/index.js';
import type { Backend } from '../core/backend.js';
import { noAugment } from '../data/augment.js';
import type { Batch } from '../data/batch.js';
import type { ImageSet } from '../data/datasets.js';
import { describeImages } from '../data/describe.js';
import { inMemoryBatches } from '../data/online-source.js';
import { createNetwork } from '../nn/create-network.js';
import { parametersOf } from '../nn/network.js';
import { oneCycle } from '../optim/schedule.js';
import { Sgd } from '../optim/sgd.js';
import { type FitHooks, type FitOptions, fit } from './fit.js';

const side = 16;

/** `count` grey 16x16 images: class 0 has a bright 4x4 square in the left half, class 1 in the right. */
function squares(count: number, seed: number): ImageSet {
  const set: ImageSet = { images: new Uint8Array(count * side * side), labels: new Uint8Array(count), count, height: side, width: side, channels: 1 };
  let s = seed;
  const random = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    set.labels[i] = label;
    const x0 = label * 8 + Math.floor(random() * 5);
    const y0 = Math.floor(random() * 13);
    for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) set.images[i * side * side + y * side + x] = 160 + Math.floor(random() * 96);
  }
  return set;
}

const train = squares(256, 1);
const test = squares(128, 2);
const info = describeImages({ name: 'squares', classes: ['left', 'right'], train, test });
const batchSize = 32;
const stepsPerEpoch = Math.floor(train.count / batchSize);
const epochs = 3;
// A crop but no flip: a mirrored left square is a right one.
const augment = { ...noAugment, crop: true, pad: 2 };

let backend: Backend;
before(async () => { backend = await createBackend('cpu'); });
after(() => backend.dispose());

/** A fresh network and optimiser, and fit's options for them (the same seed each time). */
async function fitFresh(batches: FitOptions['batches'], hooks: FitHooks = {}) {
  const model = createNetwork(backend, { architecture: 'resnet9', inChannels: 1, classes: 2, width: 8 }, 3);
  const optimiser = new Sgd(parametersOf(model), { momentum: 0.9, weightDecay: 5e-4, nesterov: true });
  try {
    return await fit({
      model, optimiser, info, test, epochs, stepsPerEpoch, batches,
      schedule: oneCycle({ peak: 0.2, peakEpoch: 1, epochs, stepsPerEpoch }),
    }, hooks);
  } finally {
    optimiser.dispose();
    model.dispose();
  }
}

it('learns from arrays in memory, calling its hooks in order, and writes nothing', { timeout: 120_000 }, async () => {
  const calls: string[] = [];
  const result = await fitFresh(inMemoryBatches(train, info, { batchSize, augment, seed: 5 }), {
    onEpochStart: (epoch, all) => calls.push(`start ${epoch}/${all}`),
    onStep: (epoch, step) => calls.push(`step ${epoch}.${step}`),
    onEpoch: (record, progress, all) => {
      calls.push(`epoch ${record.epoch}/${all}`);
      assert.equal(progress.history.at(-1), record);
      assert.equal(progress.complete, true);
      assert.equal(progress.learningRates.length, record.epoch * stepsPerEpoch);
    },
  });
  const expected = Array.from({ length: epochs }, (_, e) => [
    `start ${e}/${epochs}`, ...Array.from({ length: stepsPerEpoch }, (_, k) => `step ${e}.${k + 1}`), `epoch ${e + 1}/${epochs}`,
  ]).flat();
  assert.deepEqual(calls, expected);
  assert.equal(result.interrupted, false);
  assert.equal(result.history.length, epochs);
  const last = result.history.at(-1)!;
  assert.ok(last.test_accuracy >= 0.9, `test accuracy ${last.test_accuracy} after ${epochs} epochs (chance is 0.5)`);
  assert.ok(last.train_loss < result.history[0]!.train_loss, 'the training loss falls');
  // The confusion matrix counts the test set, by true class then predicted.
  assert.equal(result.confusion.flat().reduce((a, b) => a + b, 0), test.count);
  assert.equal(result.confusion[0]![0]! + result.confusion[1]![1]!, Math.round(last.test_accuracy * test.count));
  // Every step's rate is recorded.
  assert.equal(result.learningRates.length, epochs * stepsPerEpoch);
});

it('trains the same from streamed batches as from batches in memory', { timeout: 120_000 }, async () => {
  const inMemory = inMemoryBatches(train, info, { batchSize, augment, seed: 5 });
  const streamed = (epoch: number): AsyncIterable<Batch> => ({
    async *[Symbol.asyncIterator]() {
      for (const b of inMemory(epoch)) {
        await new Promise((resolve) => setImmediate(resolve));
        yield b;
      }
    },
  });
  const a = await fitFresh(inMemory);
  const b = await fitFresh(streamed);
  const losses = (r: typeof a) => r.history.map((e) => [e.train_loss, e.test_loss, e.test_accuracy]);
  assert.deepEqual(losses(b), losses(a));
});

it('stops after the step at which shouldStop says so, with the epoch marked incomplete', { timeout: 120_000 }, async () => {
  let steps = 0;
  let complete: boolean | undefined;
  const result = await fitFresh(inMemoryBatches(train, info, { batchSize, augment }), {
    onStep: () => void steps++,
    shouldStop: () => steps >= 3,
    onEpoch: (_record, progress) => void (complete = progress.complete),
  });
  assert.equal(steps, 3);
  assert.equal(result.interrupted, true);
  assert.equal(result.history.length, 1, 'the stopped epoch is still evaluated');
  assert.equal(complete, false);
});
