/**
 * @file The op contract: the graph records every op, and a backward that leaves out a gradient
 * the loss needs, or an op that has none, fails the step by name instead of training nothing.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { Graph } from './graph.js';
import { defineOp, notDifferentiable } from './op.js';
import { ops } from './ops/index.js';
import { Tensor } from './tensor.js';

const backend = createReferenceBackend();

/** y = 2x whose backward "forgets" the gradient. */
const forgetful = defineOp('forgetful', (g, x: Tensor) => {
  const y = g.empty(x.shape);
  backend.scale({ a: x.buffer, out: y.buffer }, { alpha: 2, length: x.size });
  return { inputs: [x], output: y, saves: [], backward: () => [undefined] };
});

const undefinedGradient = defineOp('undefinedGradient', (g, x: Tensor) => {
  const y = g.empty(x.shape);
  backend.copy(x.buffer, y.buffer);
  return { inputs: [x], output: y, saves: [], backward: notDifferentiable('undefinedGradient has no gradient, by design') };
});

it('fails the backward pass, naming the op, when a needed gradient is missing', () => {
  const x = Tensor.fromArray(backend, [3], Float32Array.of(1, 2, 3));
  const g = new Graph(backend);
  try {
    assert.throws(() => g.backward(forgetful(g, x), [x]), /op forgetful returned no gradient for its input 0 \(shape \[3\]\)/);
  } finally {
    g.dispose();
    x.dispose();
  }
});

it('fails with the op\'s own reason when its gradient is undefined by design', () => {
  const x = Tensor.fromArray(backend, [2], Float32Array.of(1, 2));
  const g = new Graph(backend);
  try {
    assert.throws(() => g.backward(undefinedGradient(g, x), [x]), /undefinedGradient has no gradient, by design/);
  } finally {
    g.dispose();
    x.dispose();
  }
});

it('records nothing and needs no backward when the graph does not record', async () => {
  const x = Tensor.fromArray(backend, [2], Float32Array.of(1, 2));
  const g = new Graph(backend, { record: false });
  try {
    assert.deepEqual(Array.from(await forgetful(g, x).read()), [2, 4]);
  } finally {
    g.dispose();
    x.dispose();
  }
});

it('names every op in the op table by its key', () => {
  for (const [name, op] of Object.entries(ops)) assert.equal(op.opName, name);
});
