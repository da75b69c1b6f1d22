/**
 * @file Batch-norm recalibration averages the statistics of the batches it is given, in every
 * layer (PreciseBN): with train-mode normalisation, each batch's per-layer statistics depend on
 * the weights and that batch alone, so the result is exactly their mean.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { Tensor } from '../core/tensor.js';
import { ResNet9 } from '../nn/resnet9.js';
import { recalibrateBatchNorm, type DeviceBatch } from './step.js';

const backend = createReferenceBackend();

function batch(phase: number): DeviceBatch {
  return {
    images: Tensor.fromArray(backend, [2, 8, 8, 1], Float32Array.from({ length: 128 }, (_, i) => Math.sin(phase + 0.37 * i) + phase)),
    labels: Tensor.fromArray(backend, [2], Float32Array.of(0, 1)),
  };
}

async function runningStats(model: ResNet9): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const b of model.blocks()) out.push(await b.bn.runningMean.read(), await b.bn.runningVar.read());
  return out;
}

it('recalibrating over batches A and B leaves the mean of what A alone and B alone give, in every layer', async () => {
  const model = new ResNet9(backend, { inChannels: 1, classes: 2, width: 2 }, 4);
  const [a, b] = [batch(0), batch(1.5)];
  recalibrateBatchNorm(model, [a]);
  const fromA = await runningStats(model);
  recalibrateBatchNorm(model, [b]);
  const fromB = await runningStats(model);
  assert.notDeepEqual(fromA, fromB, 'the two batches must differ for the test to mean anything');
  recalibrateBatchNorm(model, [a, b]);
  const both = await runningStats(model);
  both.forEach((stats, layer) => {
    stats.forEach((v, c) => {
      const want = (fromA[layer][c] + fromB[layer][c]) / 2;
      assert.ok(Math.abs(v - want) <= 1e-6 * Math.max(1, Math.abs(want)), `layer ${layer} channel ${c}: ${v} vs ${want}`);
    });
  });
  recalibrateBatchNorm(model, [a, a, a]);
  assert.deepEqual(await runningStats(model), fromA, 'averaging one batch with itself changes nothing');
  model.dispose();
});
