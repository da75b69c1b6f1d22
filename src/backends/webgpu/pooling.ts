/**
 * @file 2x2 max pooling and global max pooling, forward and backward.
 */
import type { GpuKernels } from './context.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const maxPoolKernel = defineKernel(['common.wgsl', 'maxpool_window.wgsl', 'maxpool2x2.wgsl'], ['read', 'write']);
const maxPoolBackwardKernel = defineKernel(['common.wgsl', 'maxpool_window.wgsl', 'maxpool2x2_backward.wgsl'], ['read', 'read', 'write']);
const globalKernel = defineKernel(['common.wgsl', 'global_maxpool_column.wgsl', 'global_maxpool.wgsl'], ['read', 'write']);
const globalBackwardKernel = defineKernel(['common.wgsl', 'global_maxpool_column.wgsl', 'global_maxpool_backward.wgsl'], ['read', 'read', 'write']);

export const poolingKernels: GpuKernels<'maxPool2x2' | 'maxPool2x2Backward' | 'globalMaxPool' | 'globalMaxPoolBackward'> = {
  maxPool2x2(ctx, { x, y }, s) {
    const total = s.n * Math.floor(s.h / 2) * Math.floor(s.w / 2) * s.c;
    ctx.stream.dispatch(maxPoolKernel, [x, y], uniforms([total, s.h, s.w, s.c]), grid1d(total));
  },
  maxPool2x2Backward(ctx, { x, gy, gx }, s) {
    const total = s.n * s.h * s.w * s.c;
    ctx.stream.dispatch(maxPoolBackwardKernel, [x, gy, gx], uniforms([total, s.h, s.w, s.c]), grid1d(total));
  },
  globalMaxPool(ctx, { x, y }, s) {
    const total = s.n * s.c;
    ctx.stream.dispatch(globalKernel, [x, y], uniforms([total, s.spatial, s.c]), grid1d(total));
  },
  globalMaxPoolBackward(ctx, { x, gy, gx }, s) {
    const total = s.n * s.c;
    ctx.stream.dispatch(globalBackwardKernel, [x, gy, gx], uniforms([total, s.spatial, s.c]), grid1d(total));
  },
};
