/**
 * @file 3x3 convolution, stride 1, zero padding 1, no bias: x [n,h,w,cin] * w [3,3,cin,cout].
 */
import { defineOp } from '../op.js';
import { expectShape, type Tensor } from '../tensor.js';

export const conv3x3 = defineOp('conv3x3', (g, x: Tensor, w: Tensor) => {
  expectShape('conv3x3 weight', w, [3, 3, undefined, undefined]);
  const [cin, cout] = [w.shape[2], w.shape[3]];
  expectShape('conv3x3 input', x, [undefined, undefined, undefined, cin]);
  const [n, h, width] = x.shape;
  const s = { n, h, w: width, cin, cout };
  const y = g.empty([n, h, width, cout]);
  g.backend.conv3x3({ x: x.buffer, w: w.buffer, y: y.buffer }, s);

  return {
    inputs: [x, w], output: y, saves: [x, w],
    backward: (gy, needs) => {
      // dx = gy (*) flip(w)^T (a "full" correlation); dw = sum over pixels of x patches (x) gy.
      let gx: Tensor | undefined;
      let gw: Tensor | undefined;
      if (needs(0)) {
        gx = g.empty(x.shape);
        g.backend.conv3x3BackwardData({ gy: gy.buffer, w: w.buffer, gx: gx.buffer }, s);
      }
      if (needs(1)) {
        gw = g.empty(w.shape);
        g.backend.conv3x3BackwardFilter({ x: x.buffer, gy: gy.buffer, gw: gw.buffer }, s);
      }
      return [gx, gw];
    },
  };
});
