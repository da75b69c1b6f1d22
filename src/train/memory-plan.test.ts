/**
 * @file A run on a machine with less memory than its plan needs: the planner's estimate of a step's
 * memory (measured at a quarter batch) against the step at full batch, the batch it lowers to, and
 * the refusal before training when not even the smallest batch fits.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createBackend } from '../backends/index.js';
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { createNetwork } from '../nn/create-network.js';
import { plantedPatchSet } from '../testing/sanity-fixtures.js';
import { runConfigFor } from './fit-recipe.js';
import { batchThatFits, bytesNeeded, type MemoryProbe, type StepMemory } from './memory-plan.js';
import { measureWidths, planRun } from './plan-run.js';
import { recipes } from './recipes.js';
import { resolveSettings, type TrainSettings } from './settings.js';
import { trainStep } from './step.js';

const MB = 2 ** 20;

describe('the batch that fits', () => {
  const memory: StepMemory = { fixedBytes: 100 * MB, bytesPerImage: 2 * MB };
  it("keeps the recipe's batch where it fits", () => {
    assert.equal(batchThatFits(memory, 1024, bytesNeeded(memory, 1024)), 1024);
  });
  it('halves it until a step fits', () => {
    assert.equal(batchThatFits(memory, 1024, bytesNeeded(memory, 256)), 256);
    assert.equal(batchThatFits(memory, 1024, bytesNeeded(memory, 256) - 1), 128);
  });
  it('goes no lower than an eighth of it', () => {
    assert.equal(batchThatFits(memory, 1024, bytesNeeded(memory, 128) - 1), undefined);
  });
});

async function cpuBackend(t: { skip(reason: string): void }): Promise<Backend | undefined> {
  try {
    return await createBackend('cpu');
  } catch (err) {
    if (process.env.CI) throw err;
    t.skip((err as Error).message);
    return undefined;
  }
}

const held = (backend: Backend): number => backend.memoryStats().liveBytes + backend.memoryStats().pooledBytes;

describe('memory planned on the cpu backend', () => {
  const planted = plantedPatchSet(64, 1);
  const info = { ...planted.info, trainCount: 2048, testCount: 256 };
  const settings: TrainSettings = { dataset: 'planted', out: '', recipe: 'fast', width: 16, batchSize: 256, precision: 'fp32', seed: 1 };
  const config = runConfigFor(resolveSettings(settings, 'fast'), info, info.trainCount);
  /** The planner's measurement of the run's width, after one untimed first (the native kernels' per-thread scratch grows on first use). */
  const measured = async (backend: Backend): Promise<StepMemory> => {
    await measureWidths(backend, info, config, [16], () => performance.now());
    const [m] = await measureWidths(backend, info, config, [16], () => performance.now());
    return m!.memory!;
  };

  it("predicts from a quarter batch the memory of a step at the run's batch", async (t) => {
    const backend = await cpuBackend(t);
    if (!backend) return;
    try {
      const memory = await measured(backend);
      const batch = config.batchSize;
      const images = Tensor.fromArray(backend, [batch, info.height, info.width, info.channels], new Float32Array(batch * info.height * info.width).map((_, i) => Math.sin(i)));
      const labels = Tensor.fromArray(backend, [batch], Float32Array.from({ length: batch }, (_, i) => i % 3));
      backend.trim();
      const base = held(backend);
      const model = createNetwork(backend, { architecture: recipes.fast.architecture, inChannels: 1, classes: 3, width: 16 }, 1);
      const optimiser = recipes.fast.optimiser(model, config);
      trainStep(model, optimiser, { images, labels }, 0, 0);
      await backend.sync();
      const actual = held(backend) - base;
      const predicted = memory.fixedBytes + memory.bytesPerImage * batch;
      // Gradients and momenta are counted with the images (plan-run.ts): the estimate may run over, a little.
      assert.ok(predicted >= 0.95 * actual && predicted <= 1.2 * actual, `predicted ${(predicted / MB).toFixed(1)} MB for a step that held ${(actual / MB).toFixed(1)} MB`);
      optimiser.dispose();
      model.dispose();
      images.dispose();
      labels.dispose();
    } finally {
      backend.dispose();
    }
  });

  /** What the planner reads: `bytes` in all, the measurements' pooled buffers counted in (plan-run.ts adds them back). */
  const probeOf = (backend: Backend, bytes: number): MemoryProbe => ({
    available: () => ({ bytes: bytes - backend.memoryStats().pooledBytes, source: "the test's limit" }),
  });
  const input = (probe: MemoryProbe, budget?: number) => ({
    settings: { ...settings, ...(budget === undefined ? {} : { budget }) }, configs: { fast: config }, candidates: { recipes: ['fast' as const] },
    info, trainCount: info.trainCount, testCount: info.testCount, elapsedSeconds: () => 0, now: () => performance.now(), memory: probe,
  });

  for (const budget of [undefined, 600]) {
    const how = budget === undefined ? 'without a budget' : 'under a budget';
    it(`lowers the batch to what fits, and says why (${how})`, async (t) => {
      const backend = await cpuBackend(t);
      if (!backend) return;
      try {
        const memory = await measured(backend);
        const planned = await planRun(backend, input(probeOf(backend, bytesNeeded(memory, 64)), budget));
        assert.equal(planned.batchSize, 64);
        assert.match(planned.memoryReason ?? '', /^batch 64 instead of 256: a step at 256 needs about [\d.]+ GB and the test's limit leaves [\d.]+ GB/);
        if (budget !== undefined) assert.equal(planned.plan!.stepsPerEpoch, info.trainCount / 64);
        const roomy = await planRun(backend, input(probeOf(backend, bytesNeeded(memory, 256)), budget));
        assert.equal(roomy.batchSize, 256);
        assert.equal(roomy.memoryReason, undefined);
      } finally {
        backend.dispose();
      }
    });

    it(`refuses before training when not even an eighth of the batch fits, naming what is needed (${how})`, async (t) => {
      const backend = await cpuBackend(t);
      if (!backend) return;
      try {
        const memory = await measured(backend);
        await assert.rejects(planRun(backend, input(probeOf(backend, bytesNeeded(memory, 32) - 1), budget)), (err: unknown) => {
          assert.ok(err instanceof UserError);
          assert.match(err.message, /^not enough memory to train here: the fast recipe at width 16 needs about [\d.]+ GB at its smallest batch, and the test's limit leaves [\d.]+ GB/);
          return true;
        });
      } finally {
        backend.dispose();
      }
    });
  }
});
