/**
 * @file A small training set caps the batch (4 steps an epoch at least), and the rate follows the
 * batch down by its square root; a large set trains as the recipe says.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { datasetInfo } from '../data/datasets.js';
import { batchSizeFor, runConfigFor } from './fit-recipe.js';
import { resolveSettings } from './settings.js';

it('the batch size is as asked for large sets, and capped to make 4 steps per epoch for small ones', () => {
  assert.equal(batchSizeFor(512, 50000), 512);
  assert.equal(batchSizeFor(512, 2048), 512);
  assert.equal(batchSizeFor(512, 2047), 256);
  assert.equal(batchSizeFor(512, 100), 16);
  assert.equal(batchSizeFor(512, 5), 1);
  assert.equal(batchSizeFor(512, 1), 1);
});

it("a capped batch trains at the recipe's rate scaled by the square root of the batch's shrinking", () => {
  const info = datasetInfo('cifar10');
  const fast = resolveSettings({ dataset: 'cifar10', out: 'runs/x', recipe: 'fast' }, 'fast');
  const full = runConfigFor(fast, info, 50000);
  assert.equal(full.batchSize, 1024);
  assert.equal(full.lr, fast.lr);
  const small = runConfigFor(fast, info, 64);
  assert.equal(small.batchSize, 16);
  assert.ok(Math.abs(small.lr - fast.lr / 8) < 1e-12, `rate ${small.lr} for ${fast.lr} at a batch 64 times smaller`);
});
