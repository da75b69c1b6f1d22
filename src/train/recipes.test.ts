/**
 * @file The fast recipe's arithmetic against airbench94's published form: its rate and decay
 * for a mean loss, its warm-up/warm-down rate, the 64x rate of the batch-norm biases, the
 * whitening bias frozen after three epochs, and the weight average every five steps.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { Graph } from '../core/graph.js';
import { crossEntropy } from '../core/ops/loss.js';
import { Tensor } from '../core/tensor.js';
import { AirbenchNet } from '../nn/airbench.js';
import type { ImageSet } from '../data/datasets.js';
import { airbench, fastRate, fastWeightDecay, recipes } from './recipes.js';

it('the rate and decay are airbench\'s summed-loss ones rewritten for a mean loss', () => {
  const kilostep = 1024 * (1 + 1 / (1 - airbench.momentum));
  // airbench: lr = 11.5 / kilostep on a summed loss; the same step on a mean over 1024 images is 1024 times it.
  assert.ok(Math.abs(fastRate - (1024 * airbench.lrPer1024) / kilostep) < 1e-12);
  assert.ok(Math.abs(fastRate - 1.5) < 1e-12);
  // airbench's torch weight_decay is wd / lr with wd = 0.0153 * 1024 / kilostep, added to the summed gradient.
  const torchDecay = (airbench.weightDecayPer1024 * 1024 / kilostep) / (airbench.lrPer1024 / kilostep);
  assert.ok(Math.abs(fastWeightDecay - torchDecay / 1024) < 1e-15);
});

it('the fast schedule is airbench\'s: 0.2 -> 1 over the first 23% of the steps, then down to 0.07', () => {
  const [epochs, stepsPerEpoch, peak] = [10, 48, 1.5];
  const lr = recipes.fast.schedule({ epochs, stepsPerEpoch, peak, peakEpoch: 5 });
  const total = epochs * stepsPerEpoch;
  const warmup = Math.floor(total * 0.23);
  const published = (step: number): number => {
    if (step < warmup) { const f = step / warmup; return 0.2 * (1 - f) + f; }
    const f = (step - warmup) / (total - warmup);
    return (1 - f) + 0.07 * f;
  };
  for (const step of [0, 1, 50, warmup - 1, warmup, warmup + 1, 300, total - 1, total]) {
    assert.ok(Math.abs(lr(step) - peak * published(step)) < 1e-12, `step ${step}: ${lr(step)} vs ${peak * published(step)}`);
  }
});

it('the fast session freezes the whitening bias from epoch 3, averages every 5 steps, and ends on the average', async () => {
  const backend = createReferenceBackend();
  const net = new AirbenchNet(backend, { inChannels: 1, classes: 3, width: 2 }, 1);
  const optimiser = recipes.fast.optimiser(net, { momentum: 0.85, weightDecay: fastWeightDecay, nesterov: true });
  const n = 16;
  const side = 16;
  const images = Uint8Array.from({ length: n * side * side }, (_, i) => (i * 37) % 256);
  const train: ImageSet = { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 3), count: n, height: side, width: side, channels: 1 };
  const info = { name: 't', classes: ['a', 'b', 'c'], height: side, width: side, channels: 1, mean: [0.5], std: [0.25], padMode: 'zero' as const, augmentSides: { pad: 0, cutout: 0 }, flip: false, trainCount: n, testCount: 0 };
  const session = recipes.fast.start(net, optimiser, { train, info, totalSteps: 10, resumed: false });
  const whiten = await net.whitenWeight.read();
  assert.ok(whiten.some((v) => v !== 0) && whiten.every(Number.isFinite), 'the whitening came from the images');
  session.startEpoch(2);
  assert.ok(optimiser.trainable().includes(net.whitenBias));
  session.startEpoch(3);
  assert.ok(!optimiser.trainable().includes(net.whitenBias), 'frozen from epoch 3 on');

  const x = Tensor.fromArray(backend, [n, side, side, 1], Float32Array.from(images, (v) => (v / 255 - 0.5) / 0.25));
  const y = Tensor.fromArray(backend, [n], Float32Array.from(train.labels));
  const step = (): void => {
    const g = new Graph(backend);
    try {
      optimiser.step(g.backward(crossEntropy(g, net.forward(g, x, { training: true }), y, 0.2), optimiser.trainable()), 0.5);
    } finally {
      g.dispose();
    }
  };
  const before = await net.classifier.read();
  for (let s = 1; s <= 4; s++) { step(); session.afterStep(s); }
  assert.notDeepEqual(Array.from(await net.classifier.read()), Array.from(before), 'steps 1-4 train without averaging');
  step();
  const trained = await net.classifier.read();
  session.afterStep(5);
  const averaged = await net.classifier.read();
  // Step 5 of 10: decay 0.95^5 (5/10)^3, from the average that started at the initial weights.
  const decay = 0.95 ** 5 * 0.5 ** 3;
  averaged.forEach((v, i) => {
    const expected = before[i]! + (1 - decay) * (trained[i]! - before[i]!);
    assert.ok(Math.abs(v - expected) < 1e-6, `weight ${i}: ${v} vs ${expected}`);
  });
  step();
  session.finish();
  assert.deepEqual(Array.from(await net.classifier.read()), Array.from(averaged), 'finish puts the weights back on the average');
  session.dispose();
  optimiser.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
});
