/**
 * @file Convolutions, stride 1, no bias: the 3x3 "same" one of ResNet-9, and any square kernel
 * with any padding.
 */
import type { ConvShape } from '../backend.js';
import { UserError } from '../errors.js';
import type { Graph } from '../graph.js';
import { defineOp } from '../op.js';
import { expectShape, type Tensor } from '../tensor.js';

/**
 * Both convolutions' backward: dx = gy (*) flip(w)^T (a "full" correlation) and dw = the sum over
 * pixels of x patches (x) gy, each by the backend's kernel for it, and only where it is needed.
 */
function convGradients(
  g: Graph, x: Tensor, w: Tensor, needs: (input: number) => boolean,
  backwardData: (gx: Tensor) => void, backwardFilter: (gw: Tensor) => void,
): [Tensor | undefined, Tensor | undefined] {
  let gx: Tensor | undefined;
  let gw: Tensor | undefined;
  if (needs(0)) backwardData((gx = g.empty(x.shape)));
  if (needs(1)) backwardFilter((gw = g.empty(w.shape)));
  return [gx, gw];
}

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
    backward: (gy, needs) => convGradients(g, x, w, needs,
      (gx) => g.backend.conv3x3BackwardData({ gy: gy.buffer, w: w.buffer, gx: gx.buffer }, s),
      (gw) => g.backend.conv3x3BackwardFilter({ x: x.buffer, gy: gy.buffer, gw: gw.buffer }, s)),
  };
});

/** The general convolution's kernel parameters: the input's and kernel's sizes, and the output's they imply. */
export function convShape(s: Omit<ConvShape, 'oh' | 'ow'>): ConvShape {
  return { ...s, oh: s.h + 2 * s.pad - s.k + 1, ow: s.w + 2 * s.pad - s.k + 1 };
}

/**
 * Any square kernel, stride 1, zero padding `pad` on every side, no bias: x [n,h,w,cin] *
 * w [k,k,cin,cout] -> [n, h + 2 pad - k + 1, w + 2 pad - k + 1, cout]. (3x3 "same" layers use
 * conv3x3, whose kernels are the fast ones.)
 */
export const conv = defineOp('conv', (g, x: Tensor, w: Tensor, pad: number) => {
  const k = w.shape[0];
  expectShape('conv weight', w, [k, k, undefined, undefined]);
  const [cin, cout] = [w.shape[2], w.shape[3]];
  expectShape('conv input', x, [undefined, undefined, undefined, cin]);
  const [n, h, width] = x.shape;
  const s = convShape({ n, h, w: width, cin, cout, k, pad });
  if (!Number.isInteger(pad) || pad < 0 || s.oh < 1 || s.ow < 1) {
    throw new UserError(`conv: a ${k}x${k} kernel with padding ${pad} leaves no output of a ${h}x${width} input`);
  }
  const y = g.empty([n, s.oh, s.ow, cout]);
  g.backend.conv({ x: x.buffer, w: w.buffer, y: y.buffer }, s);

  return {
    inputs: [x, w], output: y, saves: [x, w],
    backward: (gy, needs) => convGradients(g, x, w, needs,
      (gx) => g.backend.convBackwardData({ gy: gy.buffer, w: w.buffer, gx: gx.buffer }, s),
      (gw) => g.backend.convBackwardFilter({ x: x.buffer, gy: gy.buffer, gw: gw.buffer }, s)),
  };
});
