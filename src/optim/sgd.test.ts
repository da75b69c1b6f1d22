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

it('a parameter group trains at its own rate and decay; a frozen parameter keeps its value and its momentum', async () => {
  const backend = createReferenceBackend();
  const values = (): Float32Array => Float32Array.of(1, -2);
  const [plain, scaled, frozen] = [values(), values(), values()].map((v) => Tensor.fromArray(backend, [2], v));
  const grad = Tensor.fromArray(backend, [2], Float32Array.of(0.5, 0.25));
  const options = { momentum: 0.9, weightDecay: 0.01, nesterov: true };
  const sgd = new Sgd([plain!, scaled!, frozen!], options, [{ params: [scaled!], lrScale: 64, weightDecay: 0.01 / 64 }]);
  // What the scaled parameter must match: a lone optimiser at 64x the rate with 1/64 the decay.
  const twin = Tensor.fromArray(backend, [2], values());
  const reference = new Sgd([twin], { ...options, weightDecay: 0.01 / 64 });
  const grads = new Map([plain!, scaled!, frozen!].map((p) => [p, grad]));
  sgd.setFrozen(frozen!, true);
  assert.deepEqual(sgd.trainable(), [plain, scaled]);
  for (let i = 0; i < 2; i++) {
    sgd.step(grads, 0.1);
    reference.step(new Map([[twin, grad]]), 6.4);
  }
  assert.deepEqual(Array.from(await scaled!.read()), Array.from(await twin.read()));
  assert.deepEqual(Array.from(await frozen!.read()), Array.from(values()), 'frozen: untouched');
  assert.deepEqual(Array.from(await sgd.momenta()[2]!.read()), [0, 0], 'frozen: no momentum either');
  sgd.setFrozen(frozen!, false);
  sgd.step(grads, 0.1);
  assert.notDeepEqual(Array.from(await frozen!.read()), Array.from(values()), 'thawed: trains again');
  assert.throws(() => new Sgd([plain!], options, [{ params: [twin], lrScale: 2, weightDecay: 0 }]), /not among the optimiser's parameters/);
  sgd.dispose();
  reference.dispose();
});
