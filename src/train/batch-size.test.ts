import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { batchSizeFor } from './fit-recipe.js';

it('the batch size is as asked for large sets, and capped to make 4 steps per epoch for small ones', () => {
  assert.equal(batchSizeFor(512, 50000), 512);
  assert.equal(batchSizeFor(512, 2048), 512);
  assert.equal(batchSizeFor(512, 2047), 256);
  assert.equal(batchSizeFor(512, 100), 16);
  assert.equal(batchSizeFor(512, 5), 1);
  assert.equal(batchSizeFor(512, 1), 1);
});
