/**
 * @file Memory is released deterministically: thousands of training steps leave the backend's
 * live bytes exactly where they started, the pool stops growing after the first step, and the
 * process's resident memory stays flat.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createBackend } from '../backends/index.js';
import { Tensor } from '../core/tensor.js';
import { ResNet9 } from '../nn/resnet9.js';
import { parametersOf } from '../nn/network.js';
import { Sgd } from '../optim/sgd.js';
import { DeviceMetrics, evalBatch, trainStep } from './step.js';

const steps = 2000;

for (const name of ['reference', 'cpu']) {
  describe(`memory on backend ${name}`, () => {
    it(`stays flat over ${steps} training steps`, async (t) => {
      let backend;
      try {
        backend = await createBackend(name);
      } catch (err) {
        if (process.env.CI) throw err;
        return t.skip((err as Error).message);
      }
      const model = new ResNet9(backend, { inChannels: 1, classes: 3, width: 2 });
      const optimiser = new Sgd(parametersOf(model), { momentum: 0.9, weightDecay: 5e-4, nesterov: true });
      const metrics = new DeviceMetrics(backend);
      const images = Tensor.fromArray(backend, [2, 8, 8, 1], Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)));
      const labels = Tensor.fromArray(backend, [2], Float32Array.of(0, 2));
      const baseline = backend.memoryStats().liveBytes;
      let pooledAfterWarmup = 0;
      let rssAfterWarmup = 0;
      for (let i = 0; i < steps; i++) {
        trainStep(model, optimiser, { images, labels }, 0.01, 0.2, metrics);
        evalBatch(model, { images, labels }, metrics);
        assert.equal(backend.memoryStats().liveBytes, baseline, `live bytes changed at step ${i}`);
        // Not the first steps: the native backend's per-thread scratch grows once, when each
        // thread first runs each kernel, which thread scheduling may delay by a few steps.
        if (i === steps / 4) {
          await backend.sync();
          pooledAfterWarmup = backend.memoryStats().pooledBytes;
          global.gc?.();
          rssAfterWarmup = process.memoryUsage().rss;
        }
      }
      await backend.sync();
      assert.equal(backend.memoryStats().pooledBytes, pooledAfterWarmup, 'the buffer pool kept growing');
      global.gc?.();
      const growthMb = (process.memoryUsage().rss - rssAfterWarmup) / 2 ** 20;
      assert.ok(growthMb < 32, `resident memory grew by ${growthMb.toFixed(1)} MB over ${steps} steps`);
      assert.equal((await metrics.read()).count, 4 * steps);
      [images, labels].forEach((u) => u.dispose());
      metrics.dispose();
      optimiser.dispose();
      model.dispose();
      assert.equal(backend.memoryStats().liveBytes, 0, 'buffers left live after disposing everything');
      backend.dispose();
    });
  });
}
