/**
 * @file Softmax cross-entropy (with label smoothing), its gradient, and on-device metrics.
 */
import type { GpuKernels } from './context.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const lossKernel = defineKernel(['cross_entropy.wgsl', 'loss_common.wgsl', 'workgroup_sum.wgsl'], ['read', 'read', 'write', 'write']);
const lossBackwardKernel = defineKernel(
  ['common.wgsl', 'cross_entropy_backward.wgsl'], ['read', 'read', 'read', 'write'],
);
const metricsKernel = defineKernel(['metrics.wgsl', 'loss_common.wgsl', 'workgroup_sum.wgsl'], ['read', 'read', 'write']);

/** The loss kernels reduce a whole batch in one workgroup. */
const ONE_WORKGROUP: [number, number, number] = [1, 1, 1];

export const lossKernels: GpuKernels<'crossEntropy' | 'crossEntropyBackward' | 'accumulateMetrics'> = {
  crossEntropy(ctx, { logits, labels, probs, loss }, { n, k, smoothing }) {
    ctx.stream.dispatch(lossKernel, [logits, labels, probs, loss], uniforms([n, k], [smoothing]), ONE_WORKGROUP);
  },
  crossEntropyBackward(ctx, { probs, labels, gloss, glogits }, { n, k, smoothing }) {
    ctx.stream.dispatch(
      lossBackwardKernel, [probs, labels, gloss, glogits], uniforms([n * k, n, k], [smoothing]), grid1d(n * k),
    );
  },
  accumulateMetrics(ctx, { logits, labels, stats }, { n, k }) {
    ctx.stream.dispatch(metricsKernel, [logits, labels, stats], uniforms([n, k]), ONE_WORKGROUP);
  },
};
