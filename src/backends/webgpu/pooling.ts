/**
 * @file 2x2 max pooling and global max pooling, forward and backward.
 */
import type { GlobalPoolShape, Pool2x2Shape } from '../../core/backend.js';
import type { KernelContext } from './context.js';
import type { Slab } from './memory.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const maxPoolKernel = defineKernel(['common.wgsl', 'maxpool_window.wgsl', 'maxpool2x2.wgsl'], ['read', 'write']);
const maxPoolBackwardKernel = defineKernel(['common.wgsl', 'maxpool_window.wgsl', 'maxpool2x2_backward.wgsl'], ['read', 'read', 'write']);
const globalKernel = defineKernel(['common.wgsl', 'global_maxpool_column.wgsl', 'global_maxpool.wgsl'], ['read', 'write']);
const globalBackwardKernel = defineKernel(['common.wgsl', 'global_maxpool_column.wgsl', 'global_maxpool_backward.wgsl'], ['read', 'read', 'write']);

export function maxPool2x2(ctx: KernelContext, x: Slab, y: Slab, s: Pool2x2Shape): void {
  const total = s.n * Math.floor(s.h / 2) * Math.floor(s.w / 2) * s.c;
  ctx.stream.dispatch(maxPoolKernel, [x, y], uniforms([total, s.h, s.w, s.c]), grid1d(total));
}

export function maxPool2x2Backward(ctx: KernelContext, x: Slab, gy: Slab, gx: Slab, s: Pool2x2Shape): void {
  const total = s.n * s.h * s.w * s.c;
  ctx.stream.dispatch(maxPoolBackwardKernel, [x, gy, gx], uniforms([total, s.h, s.w, s.c]), grid1d(total));
}

export function globalMaxPool(ctx: KernelContext, x: Slab, y: Slab, s: GlobalPoolShape): void {
  const total = s.n * s.c;
  ctx.stream.dispatch(globalKernel, [x, y], uniforms([total, s.spatial, s.c]), grid1d(total));
}

export function globalMaxPoolBackward(ctx: KernelContext, x: Slab, gy: Slab, gx: Slab, s: GlobalPoolShape): void {
  const total = s.n * s.c;
  ctx.stream.dispatch(globalBackwardKernel, [x, gy, gx], uniforms([total, s.spatial, s.c]), grid1d(total));
}
