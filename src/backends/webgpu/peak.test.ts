/**
 * The float32 peak probe: its closed form matches the chains it stands for, and on the adapter
 * it computes that closed form (measureFp32Peak throws otherwise) and reports a rate.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { closeGpuForTests, gpuForTests } from '../../testing/gpu-for-tests.js';
import { expectedProbeValue } from './peak.js';

after(closeGpuForTests);

test('the closed form equals running the eight chains', () => {
  const threads = 1000;
  for (const [i, iters] of [[0, 0], [1, 1], [999, 7], [500, 300]] as const) {
    let sum = 0;
    for (let chain = 0; chain < 8; chain++) {
      let v = i / threads + chain / 8;
      for (let k = 0; k < iters; k++) v = v * 0.9995 + 0.0005;
      sum += 4 * v;
    }
    assert.ok(Math.abs(expectedProbeValue(i, threads, iters) - sum) < 1e-9, `i=${i} iters=${iters}`);
  }
});

test('the probe computes what it claims and reports a positive rate', async (t) => {
  const gpu = await gpuForTests(t);
  if (!gpu) return;
  const flops = await gpu.measureFp32Peak({ threads: 3000, iters: 200, repeats: 2 });
  assert.ok(Number.isFinite(flops) && flops > 0, `${flops}`);
});
