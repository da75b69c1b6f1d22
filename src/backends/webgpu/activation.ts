/**
 * @file Activations: GELU and its gradient (shaders/normal.wgsl holds the normal distribution).
 */
import type { GpuKernels } from './context.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const geluKernel = defineKernel(['common.wgsl', 'normal.wgsl', 'gelu.wgsl'], ['read', 'write']);
const geluBackwardKernel = defineKernel(['common.wgsl', 'normal.wgsl', 'gelu_backward.wgsl'], ['read', 'read', 'write']);

export const activationKernels: GpuKernels<'gelu' | 'geluBackward'> = {
  gelu(ctx, { x, y }, { length }) {
    ctx.stream.dispatch(geluKernel, [x, y], uniforms([length]), grid1d(length));
  },
  geluBackward(ctx, { x, gy, gx }, { length }) {
    ctx.stream.dispatch(geluBackwardKernel, [x, gy, gx], uniforms([length]), grid1d(length));
  },
};
