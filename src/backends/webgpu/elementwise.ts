/**
 * @file Elementwise kernels: fill, add, scale, the SGD step, and the channel padding the
 * convolutions use.
 */
import type { GpuKernels, KernelContext } from './context.js';
import type { Slab } from './memory.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const fillKernel = defineKernel(['common.wgsl', 'fill.wgsl'], ['write']);
const addKernel = defineKernel(['common.wgsl', 'add.wgsl'], ['read', 'read', 'write']);
const scaleKernel = defineKernel(['common.wgsl', 'scale.wgsl'], ['read', 'write']);
const sgdKernel = defineKernel(['common.wgsl', 'sgd.wgsl'], ['read', 'write', 'write']);
const addBiasKernel = defineKernel(['common.wgsl', 'add_bias.wgsl'], ['read', 'read', 'write']);
const biasBackwardKernel = defineKernel(['common.wgsl', 'bias_backward.wgsl'], ['read', 'write']);
const lerpKernel = defineKernel(['common.wgsl', 'lerp.wgsl'], ['write', 'read']);
const padKernel = defineKernel(['common.wgsl', 'pad.wgsl'], ['read', 'write']);

export function fill(ctx: KernelContext, dst: Slab, length: number, value: number): void {
  ctx.stream.dispatch(fillKernel, [dst], uniforms([length], [value]), grid1d(length));
}

export const elementwiseKernels: GpuKernels<'add' | 'scale' | 'sgdStep'> = {
  add(ctx, { a, b, out }, { length }) {
    ctx.stream.dispatch(addKernel, [a, b, out], uniforms([length]), grid1d(length));
  },
  scale(ctx, { a, out }, { alpha, length }) {
    ctx.stream.dispatch(scaleKernel, [a, out], uniforms([length], [alpha]), grid1d(length));
  },
  sgdStep(ctx, { param, grad, velocity }, h) {
    ctx.stream.dispatch(
      sgdKernel, [grad, param, velocity],
      uniforms([h.length, h.nesterov ? 1 : 0], [h.lr, h.momentum, h.weightDecay]), grid1d(h.length),
    );
  },
};

/** A per-channel bias and its gradient (the gradient one thread per channel: for narrow layers). */
export const biasKernels: GpuKernels<'addBias' | 'biasBackward'> = {
  addBias(ctx, { x, bias, y }, { rows, channels }) {
    ctx.stream.dispatch(addBiasKernel, [x, bias, y], uniforms([rows * channels, channels]), grid1d(rows * channels));
  },
  biasBackward(ctx, { gy, gbias }, { rows, channels }) {
    ctx.stream.dispatch(biasBackwardKernel, [gy, gbias], uniforms([channels, rows]), grid1d(channels));
  },
};

/** Weight averaging's one kernel. */
export const averagingKernels: GpuKernels<'lerp'> = {
  lerp(ctx, { a, b }, { t, length }) {
    ctx.stream.dispatch(lerpKernel, [a, b], uniforms([length], [t]), grid1d(length));
  },
};

/** A [outer][mid][inner] tensor viewed with new mid and inner extents (zero-filled or cut). */
export interface PadShape {
  outer: number;
  srcMid: number;
  srcInner: number;
  dstMid: number;
  dstInner: number;
}

export function pad(ctx: KernelContext, src: Slab, dst: Slab, s: PadShape): void {
  const total = s.outer * s.dstMid * s.dstInner;
  ctx.stream.dispatch(
    padKernel, [src, dst], uniforms([total, s.srcMid, s.srcInner, s.dstMid, s.dstInner]), grid1d(total),
  );
}
