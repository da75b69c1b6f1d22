/**
 * @file Activations: GELU (PyTorch's exact, erf-based nn.GELU()).
 */
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';

export const gelu = defineOp('gelu', (g, x: Tensor) => {
  const y = g.empty(x.shape);
  g.backend.gelu({ x: x.buffer, y: y.buffer }, { length: x.size });
  return {
    inputs: [x], output: y, saves: [x],
    backward: (gy) => {
      const gx = g.empty(x.shape);
      g.backend.geluBackward({ x: x.buffer, gy: gy.buffer, gx: gx.buffer }, { length: x.size });
      return [gx];
    },
  };
});
