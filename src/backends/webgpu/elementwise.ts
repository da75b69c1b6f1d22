/**
 * @file Elementwise kernels: fill, add, scale, the SGD step, and the channel padding the
 * convolutions use.
 */
import type { SgdHyper } from '../../core/backend.js';
import type { KernelContext } from './context.js';
import type { Slab } from './memory.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const fillKernel = defineKernel(['common.wgsl', 'fill.wgsl'], ['write']);
const addKernel = defineKernel(['common.wgsl', 'add.wgsl'], ['read', 'read', 'write']);
const scaleKernel = defineKernel(['common.wgsl', 'scale.wgsl'], ['read', 'write']);
const sgdKernel = defineKernel(['common.wgsl', 'sgd.wgsl'], ['read', 'write', 'write']);
const padKernel = defineKernel(['common.wgsl', 'pad.wgsl'], ['read', 'write']);

export function fill(ctx: KernelContext, dst: Slab, length: number, value: number): void {
  ctx.stream.dispatch(fillKernel, [dst], uniforms([length], [value]), grid1d(length));
}

export function add(ctx: KernelContext, a: Slab, b: Slab, dst: Slab, length: number): void {
  ctx.stream.dispatch(addKernel, [a, b, dst], uniforms([length]), grid1d(length));
}

export function scale(ctx: KernelContext, a: Slab, alpha: number, dst: Slab, length: number): void {
  ctx.stream.dispatch(scaleKernel, [a, dst], uniforms([length], [alpha]), grid1d(length));
}

export function sgdStep(ctx: KernelContext, param: Slab, grad: Slab, velocity: Slab, length: number, h: SgdHyper): void {
  ctx.stream.dispatch(
    sgdKernel, [grad, param, velocity],
    uniforms([length, h.nesterov ? 1 : 0], [h.lr, h.momentum, h.weightDecay]), grid1d(length),
  );
}

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
