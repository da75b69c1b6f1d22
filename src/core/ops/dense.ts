/**
 * @file Elementwise add and scale, and the linear layer (PyTorch's [out, in] weight, no bias).
 */
import { UserError } from '../errors.js';
import { defineOp } from '../op.js';
import { expectShape, type Tensor } from '../tensor.js';

export const add = defineOp('add', (g, a: Tensor, b: Tensor) => {
  if (a.shape.join() !== b.shape.join()) throw new UserError(`add: shapes [${a.shape}] and [${b.shape}] differ`);
  const out = g.empty(a.shape);
  g.backend.add({ a: a.buffer, b: b.buffer, out: out.buffer }, { length: out.size });
  return {
    inputs: [a, b], output: out, saves: [],
    backward: (gy, needs) => {
      // d(a + b) = da + db: both inputs receive gy; the second gets a copy so that the two
      // gradients can be accumulated into independently.
      let gb: Tensor | undefined;
      if (needs(0) && needs(1)) {
        gb = g.empty(gy.shape);
        g.backend.copy(gy.buffer, gb.buffer);
      } else if (needs(1)) {
        gb = gy;
      }
      return [needs(0) ? gy : undefined, gb];
    },
  };
});

export const scale = defineOp('scale', (g, x: Tensor, alpha: number) => {
  const out = g.empty(x.shape);
  g.backend.scale({ a: x.buffer, out: out.buffer }, { alpha, length: out.size });
  return {
    inputs: [x], output: out, saves: [],
    backward: (gy) => {
      const gx = g.empty(x.shape);
      g.backend.scale({ a: gy.buffer, out: gx.buffer }, { alpha, length: gx.size });
      return [gx];
    },
  };
});

/** x [..., channels] + bias [channels], broadcast over the other dimensions. */
export const addBias = defineOp('addBias', (g, x: Tensor, bias: Tensor) => {
  const channels = x.shape[x.shape.length - 1];
  expectShape('bias', bias, [channels]);
  const s = { rows: x.size / channels, channels };
  const y = g.empty(x.shape);
  g.backend.addBias({ x: x.buffer, bias: bias.buffer, y: y.buffer }, s);
  return {
    inputs: [x, bias], output: y, saves: [],
    backward: (gy, needs) => {
      let gbias: Tensor | undefined;
      if (needs(1)) {
        gbias = g.empty(bias.shape);
        g.backend.biasBackward({ gy: gy.buffer, gbias: gbias.buffer }, s);
      }
      // d(x + b)/dx = 1: gy itself is x's gradient.
      return [needs(0) ? gy : undefined, gbias];
    },
  };
});

/** x [n, in] times weight [out, in] transposed -> [n, out]. */
export const linear = defineOp('linear', (g, x: Tensor, weight: Tensor) => {
  const [outF, inF] = weight.shape;
  expectShape('linear input', x, [undefined, inF]);
  const n = x.shape[0];
  const y = g.empty([n, outF]);
  g.backend.matmul({ a: x.buffer, b: weight.buffer, out: y.buffer }, { m: n, k: inF, n: outF, transA: false, transB: true });
  return {
    inputs: [x, weight], output: y, saves: [x, weight],
    backward: (gy, needs) => {
      // y = x W^T:  dx = gy W,  dW = gy^T x.
      let gx: Tensor | undefined;
      let gw: Tensor | undefined;
      if (needs(0)) {
        gx = g.empty(x.shape);
        g.backend.matmul({ a: gy.buffer, b: weight.buffer, out: gx.buffer }, { m: n, k: outF, n: inF, transA: false, transB: false });
      }
      if (needs(1)) {
        gw = g.empty(weight.shape);
        g.backend.matmul({ a: gy.buffer, b: x.buffer, out: gw.buffer }, { m: outF, k: n, n: inF, transA: true, transB: false });
      }
      return [gx, gw];
    },
  };
});
