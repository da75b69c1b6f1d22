/**
 * @file The optimiser uses the learning rate of each step. (A training config carries its own
 * `lr`, the schedule's peak; once it overrode every step's rate, so runs trained at a constant
 * peak rate and the one-cycle schedule did nothing.)
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { Tensor } from '../core/tensor.js';
import { Sgd } from './sgd.js';

it('each step uses the rate it is given, whatever else the options object holds', async () => {
  const backend = createReferenceBackend();
  const param = Tensor.fromArray(backend, [2], Float32Array.of(1, -2));
  const grad = Tensor.fromArray(backend, [2], Float32Array.of(0.5, 0.25));
  const config = { lr: 0.4, momentum: 0, weightDecay: 0, nesterov: false, epochs: 25 };
  const sgd = new Sgd([param], config);
  sgd.step(new Map([[param, grad]]), 0.1);
  assert.deepEqual(Array.from(await param.read()), [1 - 0.1 * 0.5, -2 - 0.1 * 0.25].map(Math.fround));
  sgd.step(new Map([[param, grad]]), 0);
  assert.deepEqual(Array.from(await param.read()), [1 - 0.1 * 0.5, -2 - 0.1 * 0.25].map(Math.fround), 'a rate of 0 leaves the parameter alone');
  sgd.dispose();
});

it('refuses a step in which a parameter received no gradient, naming it', () => {
  const backend = createReferenceBackend();
  const trained = Tensor.fromArray(backend, [2], Float32Array.of(1, 2));
  const forgotten = Tensor.fromArray(backend, [3, 1], Float32Array.of(1, 2, 3));
  const grad = Tensor.fromArray(backend, [2], Float32Array.of(0.5, 0.25));
  const sgd = new Sgd([trained, forgotten], { momentum: 0.9, weightDecay: 0, nesterov: true });
  assert.throws(() => sgd.step(new Map([[trained, grad]]), 0.1), /parameter 1 of 2 \(shape \[3,1\]\) received no gradient/);
  sgd.dispose();
});
