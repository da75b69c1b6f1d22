/**
 * @file Max pooling: 2x2 windows with stride 2 (floor on odd sizes), and the global max pool
 * that ends ResNet-9. Gradients go to the first maximum of each window, as in PyTorch.
 */
import { defineOp } from '../op.js';
import { expectShape, type Tensor } from '../tensor.js';

export const maxPool2x2 = defineOp('maxPool2x2', (g, x: Tensor) => {
  expectShape('maxPool2x2 input', x, [undefined, undefined, undefined, undefined]);
  const [n, h, w, c] = x.shape;
  const s = { n, h, w, c };
  const y = g.empty([n, Math.floor(h / 2), Math.floor(w / 2), c]);
  g.backend.maxPool2x2({ x: x.buffer, y: y.buffer }, s);
  return {
    inputs: [x], output: y, saves: [x],
    backward: (gy) => {
      const gx = g.empty(x.shape);
      g.backend.maxPool2x2Backward({ x: x.buffer, gy: gy.buffer, gx: gx.buffer }, s);
      return [gx];
    },
  };
});

/** [n, h, w, c] -> [n, c]: the maximum over all positions of each channel. */
export const globalMaxPool = defineOp('globalMaxPool', (g, x: Tensor) => {
  expectShape('globalMaxPool input', x, [undefined, undefined, undefined, undefined]);
  const [n, h, w, c] = x.shape;
  const s = { n, spatial: h * w, c };
  const y = g.empty([n, c]);
  g.backend.globalMaxPool({ x: x.buffer, y: y.buffer }, s);
  return {
    inputs: [x], output: y, saves: [x],
    backward: (gy) => {
      const gx = g.empty(x.shape);
      g.backend.globalMaxPoolBackward({ x: x.buffer, gy: gy.buffer, gx: gx.buffer }, s);
      return [gx];
    },
  };
});
