/**
 * @file Max pooling: 2x2 windows with stride 2 (floor on odd sizes), and the global max pool
 * that ends ResNet-9. Gradients go to the first maximum of each window, as in PyTorch.
 */
import type { Graph } from '../graph.js';
import { expectShape, type Tensor } from '../tensor.js';

export function maxPool2x2(g: Graph, x: Tensor): Tensor {
  expectShape('maxPool2x2 input', x, [undefined, undefined, undefined, undefined]);
  const [n, h, w, c] = x.shape;
  const s = { n, h, w, c };
  const y = g.empty([n, Math.floor(h / 2), Math.floor(w / 2), c]);
  g.backend.maxPool2x2(x.buffer, y.buffer, s);
  g.record([x], y, [x], (gy) => {
    const gx = g.empty(x.shape);
    g.backend.maxPool2x2Backward(x.buffer, gy.buffer, gx.buffer, s);
    return [gx];
  });
  return y;
}

/** [n, h, w, c] -> [n, c]: the maximum over all positions of each channel. */
export function globalMaxPool(g: Graph, x: Tensor): Tensor {
  expectShape('globalMaxPool input', x, [undefined, undefined, undefined, undefined]);
  const [n, h, w, c] = x.shape;
  const s = { n, spatial: h * w, c };
  const y = g.empty([n, c]);
  g.backend.globalMaxPool(x.buffer, y.buffer, s);
  g.record([x], y, [x], (gy) => {
    const gx = g.empty(x.shape);
    g.backend.globalMaxPoolBackward(x.buffer, gy.buffer, gx.buffer, s);
    return [gx];
  });
  return y;
}
