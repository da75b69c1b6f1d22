/**
 * @file The arithmetic features an adapter offers, with Dawn's defaults and with NVIDIA's toggles,
 * read on whatever adapter the tests have (SwiftShader without a GPU): what is reported is what the
 * adapter lists, the toggles only add, and the summary names every feature that decides the path;
 * `kilosecond bench gpu --features` prints the same.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { cliFailure, runCli } from '../../testing/cli.js';
import { ensureSoftwareVulkan } from '../../testing/vulkan.js';
import { dawnInstance } from './dawn.js';
import { arithmeticFeatures, formatArithmetic, matrixUnitToggles, probeArithmetic, type AdapterFeatures } from './features.js';

it('reports each arithmetic feature as the adapter lists it, with and without the toggles', async (t) => {
  ensureSoftwareVulkan();
  const found = await probeArithmetic(dawnInstance);
  if (!found) {
    if (process.env.CI) assert.fail('CI must have a WebGPU adapter (SwiftShader)');
    t.skip('no WebGPU adapter');
    return;
  }
  for (const side of [found.defaults, found.toggled]) {
    for (const f of arithmeticFeatures) assert.equal(side.arithmetic[f], side.features.includes(f), f);
    if (side.subgroupMatrixConfigs.length > 0) assert.ok(side.arithmetic['chromium-experimental-subgroup-matrix'], 'matrix shapes without the feature');
  }
  assert.deepEqual(found.toggled.flags, [`enable-dawn-features=${matrixUnitToggles.join(',')}`]);
  for (const f of found.defaults.features) assert.ok(found.toggled.features.includes(f), `the toggles took away ${f}`);
  const text = formatArithmetic(found);
  for (const f of arithmeticFeatures) assert.match(text, new RegExp(`^${f}: (not )?offered by default, (not )?offered with allow_unsafe_apis`, 'm'));
  assert.match(text, /^subgroup matrix shapes: /m);
});

it('kilosecond bench gpu --features prints the same, as JSON with --json; without --features it says what to pass', async (t) => {
  ensureSoftwareVulkan();
  const found = await probeArithmetic(dawnInstance);
  if (!found) {
    t.skip('no WebGPU adapter');
    return;
  }
  const { stdout } = await runCli(['bench', 'gpu', '--features', '--json']);
  const printed = JSON.parse(stdout) as { defaults: AdapterFeatures; toggled: AdapterFeatures };
  assert.deepEqual(printed.defaults.arithmetic, found.defaults.arithmetic);
  assert.deepEqual(printed.toggled.arithmetic, found.toggled.arithmetic);
  assert.equal((await runCli(['bench', 'gpu', '--features'])).stdout, `${formatArithmetic(found)}\n`);
  const refused = await cliFailure(['bench', 'gpu']);
  assert.match(refused.stderr, /bench gpu: pass --features/);
});
