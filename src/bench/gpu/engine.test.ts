/**
 * @file gpu.sh's training-step measurement (engine.mjs, plain JavaScript that no compiler checks)
 * at a tiny size on whatever adapter the tests have: it must time real steps and print its JSON.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { createDawnBackend } from '../../backends/webgpu/dawn.js';
import { repoRoot } from '../../testing/paths.js';
import { ensureSoftwareVulkan } from '../../testing/vulkan.js';

it('times training steps of both recipes\' networks and ends with one JSON line', { timeout: 300_000 }, async (t) => {
  ensureSoftwareVulkan();
  try {
    (await createDawnBackend({ minBufferBytes: 16 * 1024 * 1024 })).dispose();
  } catch (err) {
    if (process.env.CI) throw err;
    t.skip(`no WebGPU adapter: ${(err as Error).message}`);
    return;
  }
  for (const recipe of ['dawnbench', 'fast']) {
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'src', 'bench', 'gpu', 'engine.mjs'), '4', '2', '1', '16', '1', recipe]);
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { recipe: string; median_step_s: number; image: number[]; batch_size: number };
    assert.equal(r.recipe, recipe);
    assert.deepEqual(r.image, [16, 16, 1]);
    assert.ok(Number.isFinite(r.median_step_s) && r.median_step_s > 0, `${recipe}: ${stdout}`);
  }
});
