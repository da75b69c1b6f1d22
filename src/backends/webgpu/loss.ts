/**
 * @file Softmax cross-entropy (with label smoothing), its gradient, and on-device metrics.
 */
import type { KernelContext } from './context.js';
import type { Slab } from './memory.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const lossKernel = defineKernel(['cross_entropy.wgsl', 'loss_common.wgsl', 'workgroup_sum.wgsl'], ['read', 'read', 'write', 'write']);
const lossBackwardKernel = defineKernel(
  ['common.wgsl', 'cross_entropy_backward.wgsl'], ['read', 'read', 'read', 'write'],
);
const metricsKernel = defineKernel(['metrics.wgsl', 'loss_common.wgsl', 'workgroup_sum.wgsl'], ['read', 'read', 'write']);

/** The loss kernels reduce a whole batch in one workgroup. */
const ONE_WORKGROUP: [number, number, number] = [1, 1, 1];

export function crossEntropy(
  ctx: KernelContext, logits: Slab, labels: Slab, probs: Slab, loss: Slab, n: number, k: number, smoothing: number,
): void {
  ctx.stream.dispatch(lossKernel, [logits, labels, probs, loss], uniforms([n, k], [smoothing]), ONE_WORKGROUP);
}

export function crossEntropyBackward(
  ctx: KernelContext, probs: Slab, labels: Slab, gloss: Slab, glogits: Slab, n: number, k: number, smoothing: number,
): void {
  ctx.stream.dispatch(
    lossBackwardKernel, [probs, labels, gloss, glogits], uniforms([n * k, n, k], [smoothing]), grid1d(n * k),
  );
}

export function accumulateMetrics(ctx: KernelContext, logits: Slab, labels: Slab, stats: Slab, n: number, k: number): void {
  ctx.stream.dispatch(metricsKernel, [logits, labels, stats], uniforms([n, k]), ONE_WORKGROUP);
}
