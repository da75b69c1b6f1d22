/**
 * @file Every op's backward against finite differences, independent of the PyTorch fixtures:
 * float64 throughout (the reference backend's float64 mode), small random shapes with odd
 * sizes. For a random cotangent r, the analytic gradient of sum(r * op(inputs)) from the
 * op's backward must match central differences of the forward, input element by element.
 *
 * The table is typed by the op table (src/core/ops/index.ts): an op without a check here does
 * not compile.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createReferenceBackend } from '../../backends/reference/index.js';
import { randomArray, relativeError } from '../../testing/kernel-check.js';
import { Graph } from '../graph.js';
import { Tensor } from '../tensor.js';
import { ops, type OpName } from './index.js';

const backend = createReferenceBackend({ precision: 'float64' });

interface Input {
  shape: number[];
  /** False for inputs that have no gradient (class labels). */
  differentiable: boolean;
  values: Float64Array;
}

interface GradientCheck {
  name: string;
  inputs: Input[];
  run(g: Graph, inputs: Tensor[]): Tensor;
}

let seed = 0;
const random = (shape: number[], scale = 1): Input => ({
  shape,
  differentiable: true,
  values: Float64Array.from(randomArray(shape.reduce((a, b) => a * b, 1), ++seed, scale)),
});

/** Integer class labels in [0, k): an input without a gradient. */
const labels = (n: number, k: number): Input => ({
  shape: [n], differentiable: false, values: Float64Array.from({ length: n }, (_, i) => (i * 3) % k),
});

function batchNormCheck(relu: boolean): GradientCheck {
  const channels = 5;
  const runningMean = Tensor.empty(backend, [channels]);
  const runningVar = Tensor.empty(backend, [channels]);
  backend.fill(runningMean.buffer, 0);
  backend.fill(runningVar.buffer, 1);
  return {
    name: `training mode, relu=${relu}`,
    inputs: [random([2, 3, 3, channels], 2), random([channels], 0.5), random([channels], 0.5)],
    run: (g, [x, weight, bias]) =>
      ops.batchNorm(g, x!, { weight: weight!, bias: bias!, runningMean, runningVar, batchesTracked: 0 }, { training: true, relu }),
  };
}

const checks: Record<OpName, GradientCheck[]> = {
  add: [{ name: '[3,5] + [3,5]', inputs: [random([3, 5]), random([3, 5])], run: (g, [a, b]) => ops.add(g, a!, b!) }],
  scale: [{ name: '[7] * -1.3', inputs: [random([7])], run: (g, [x]) => ops.scale(g, x!, -1.3) }],
  addBias: [{ name: '[2,3,5,4] + [4]', inputs: [random([2, 3, 5, 4]), random([4])], run: (g, [x, b]) => ops.addBias(g, x!, b!) }],
  linear: [{ name: '[3,7] x [5,7]^T', inputs: [random([3, 7]), random([5, 7])], run: (g, [x, w]) => ops.linear(g, x!, w!) }],
  conv3x3: [
    { name: '[2,3,5,3] * [3,3,3,4]', inputs: [random([2, 3, 5, 3]), random([3, 3, 3, 4])], run: (g, [x, w]) => ops.conv3x3(g, x!, w!) },
    { name: '[1,1,1,2] * [3,3,2,3]', inputs: [random([1, 1, 1, 2]), random([3, 3, 2, 3])], run: (g, [x, w]) => ops.conv3x3(g, x!, w!) },
  ],
  conv: [
    { name: '2x2 valid, [2,5,4,3] * [2,2,3,4]', inputs: [random([2, 5, 4, 3]), random([2, 2, 3, 4])], run: (g, [x, w]) => ops.conv(g, x!, w!, 0) },
    { name: '3x3 pad 2, [1,3,4,2] * [3,3,2,3]', inputs: [random([1, 3, 4, 2]), random([3, 3, 2, 3])], run: (g, [x, w]) => ops.conv(g, x!, w!, 2) },
    { name: '4x4 pad 1, [1,5,3,2] * [4,4,2,2]', inputs: [random([1, 5, 3, 2]), random([4, 4, 2, 2])], run: (g, [x, w]) => ops.conv(g, x!, w!, 1) },
  ],
  batchNorm: [batchNormCheck(false), batchNormCheck(true)],
  gelu: [{ name: '[3,7], both tails', inputs: [random([3, 7], 4)], run: (g, [x]) => ops.gelu(g, x!) }],
  maxPool2x2: [{ name: '[2,5,7,3] (odd sizes)', inputs: [random([2, 5, 7, 3])], run: (g, [x]) => ops.maxPool2x2(g, x!) }],
  globalMaxPool: [{ name: '[2,3,5,4]', inputs: [random([2, 3, 5, 4])], run: (g, [x]) => ops.globalMaxPool(g, x!) }],
  crossEntropy: [0, 0.2].map((smoothing) => ({
    name: `[5,7] smoothing=${smoothing}`,
    inputs: [random([5, 7], 3), labels(5, 7)],
    run: (g: Graph, [logits, target]: Tensor[]) => ops.crossEntropy(g, logits!, target!, smoothing),
  })),
};

function tensorOf(input: Input): Tensor {
  const t = Tensor.empty(backend, input.shape);
  backend.writeExact(t.buffer, input.values);
  return t;
}

/** sum(r * check.run(inputs)) in float64, without recording a tape. */
function objective(check: GradientCheck, inputs: Tensor[], r: Float64Array): number {
  const g = new Graph(backend, { record: false });
  try {
    const out = backend.readExact(check.run(g, inputs).buffer);
    return out.reduce((sum, v, i) => sum + v * r[i]!, 0);
  } finally {
    g.dispose();
  }
}

/** Central differences: the step balances truncation (h^2) against float64 rounding (eps / h). */
const STEP = 1e-5;
/** Relative L2 error allowed between the analytic and the numerical gradient. */
const TOLERANCE = 1e-6;

for (const [op, opChecks] of Object.entries(checks)) {
  describe(`${op}: backward matches finite differences (float64)`, () => {
    for (const check of opChecks) {
      it(check.name, () => {
        const inputs = check.inputs.map(tensorOf);
        const g = new Graph(backend);
        try {
          const out = check.run(g, inputs);
          const r = Float64Array.from(randomArray(out.size, 1000 + seed));
          const cotangent = Tensor.empty(backend, out.shape);
          backend.writeExact(cotangent.buffer, r);
          const wrt = inputs.filter((_, i) => check.inputs[i]!.differentiable);
          const grads = g.backward(out, wrt, cotangent);
          check.inputs.forEach((input, i) => {
            if (!input.differentiable) return;
            const analytic = backend.readExact(grads.get(inputs[i]!)!.buffer);
            const numeric = new Float64Array(input.values.length);
            const values = Float64Array.from(input.values);
            for (let j = 0; j < values.length; j++) {
              const at = (v: number): number => {
                values[j] = v;
                backend.writeExact(inputs[i]!.buffer, values);
                return objective(check, inputs, r);
              };
              const v = input.values[j]!;
              numeric[j] = (at(v + STEP) - at(v - STEP)) / (2 * STEP);
              at(v);
            }
            const error = relativeError(analytic, numeric);
            assert.ok(error <= TOLERANCE, `input ${i} [${input.shape}]: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
          });
          cotangent.dispose();
        } finally {
          g.dispose();
          for (const t of inputs) t.dispose();
        }
      });
    }
  });
}
