/**
 * @file Elementwise add and scale, and the linear layer (PyTorch's [out, in] weight, no bias).
 */
import type { Graph } from '../graph.js';
import { expectShape, type Tensor } from '../tensor.js';
import { UserError } from '../errors.js';

export function add(g: Graph, a: Tensor, b: Tensor): Tensor {
  if (a.shape.join() !== b.shape.join()) throw new UserError(`add: shapes [${a.shape}] and [${b.shape}] differ`);
  const out = g.empty(a.shape);
  g.backend.add(a.buffer, b.buffer, out.buffer, out.size);
  g.record([a, b], out, [], (gy, needs) => {
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
  });
  return out;
}

export function scale(g: Graph, x: Tensor, alpha: number): Tensor {
  const out = g.empty(x.shape);
  g.backend.scale(x.buffer, alpha, out.buffer, out.size);
  g.record([x], out, [], (gy) => {
    const gx = g.empty(x.shape);
    g.backend.scale(gy.buffer, alpha, gx.buffer, gx.size);
    return [gx];
  });
  return out;
}

/** x [n, in] times weight [out, in] transposed -> [n, out]. */
export function linear(g: Graph, x: Tensor, weight: Tensor): Tensor {
  const [outF, inF] = weight.shape;
  expectShape('linear input', x, [undefined, inF]);
  const n = x.shape[0];
  const y = g.empty([n, outF]);
  g.backend.matmul(x.buffer, weight.buffer, y.buffer, { m: n, k: inF, n: outF, transA: false, transB: true });
  g.record([x, weight], y, [x, weight], (gy, needs) => {
    // y = x W^T:  dx = gy W,  dW = gy^T x.
    let gx: Tensor | undefined;
    let gw: Tensor | undefined;
    if (needs(0)) {
      gx = g.empty(x.shape);
      g.backend.matmul(gy.buffer, weight.buffer, gx.buffer, { m: n, k: outF, n: inF, transA: false, transB: false });
    }
    if (needs(1)) {
      gw = g.empty(weight.shape);
      g.backend.matmul(gy.buffer, x.buffer, gw.buffer, { m: outF, k: n, n: inF, transA: true, transB: false });
    }
    return [gx, gw];
  });
  return y;
}
