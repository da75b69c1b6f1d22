/**
 * @file Batch norm with fused ReLU. The per-channel reductions run in two stages: partial sums
 * per chunk of rows (one workgroup each, many in flight), then one workgroup per channel adds the
 * chunks; an elementwise pass applies the result. When the channel count allows, the row passes
 * handle 4 channels per thread with vector loads (shaders/vector4.wgsl).
 */
import type { BatchNormShape } from '../../core/backend.js';
import type { GpuKernels, KernelContext } from './context.js';
import type { Slab } from './memory.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel, type Access, type Kernel } from './stream.js';

const statsFinishKernel = defineKernel(['workgroup_sum.wgsl', 'bn_chunk_totals.wgsl', 'bn_stats_finish.wgsl'], ['read', 'read', 'write', 'write', 'write', 'write']);
const evalStatsKernel = defineKernel(['bn_eval_stats.wgsl'], ['read', 'read', 'write', 'write']);
const gradFinishKernel = defineKernel(
  ['workgroup_sum.wgsl', 'bn_chunk_totals.wgsl', 'bn_grad_finish.wgsl'], ['read', 'read', 'read', 'read', 'write', 'write', 'write'],
);

/** A row kernel in its 1- and 4-channels-per-thread forms. */
function rowKernels(sources: string[], bindings: Access[]): Record<1 | 4, Kernel> {
  return {
    1: defineKernel(['vector1.wgsl', ...sources], bindings),
    4: defineKernel(['vector4.wgsl', ...sources], bindings),
  };
}

const statsKernels = rowKernels(['bn_common.wgsl', 'bn_stats.wgsl'], ['read', 'write']);
const gradKernels = rowKernels(['bn_common.wgsl', 'bn_grad.wgsl'], ['read', 'read', 'read', 'read', 'read', 'write']);
const applyKernels = rowKernels(['common.wgsl', 'bn_apply.wgsl'], ['read', 'read', 'read', 'read', 'read', 'write']);
const backwardKernels = rowKernels(['common.wgsl', 'bn_backward.wgsl'], ['read', 'read', 'read', 'read', 'write']);

/** Rows per chunk: enough work per workgroup, and about as many chunks as a big GPU runs at once. */
const MIN_ROWS_PER_CHUNK = 64;
const MAX_CHUNKS = 1024;

/** How the row reductions (bn_common.wgsl) split a [rows][channels] tensor over workgroups. */
interface Reduction {
  vw: 1 | 4;
  chunks: number;
  /** rows, channel vectors, rows per chunk, channel vectors per workgroup, lanes, relu. */
  params: ArrayBuffer;
  groups: [number, number, number];
}

/** 4 channels per thread when the channel count allows vector loads. */
const vectorWidth = (channels: number): 1 | 4 => (channels % 4 === 0 ? 4 : 1);

function reduction(s: BatchNormShape): Reduction {
  const vw = vectorWidth(s.channels);
  const cv = s.channels / vw;
  const rowsPerChunk = Math.max(MIN_ROWS_PER_CHUNK, Math.ceil(s.rows / MAX_CHUNKS));
  const chunks = Math.ceil(s.rows / rowsPerChunk);
  const groupWidth = Math.min(cv, 256);
  const lanes = Math.floor(256 / groupWidth);
  return {
    vw,
    chunks,
    params: uniforms([s.rows, cv, rowsPerChunk, groupWidth, lanes, s.relu ? 1 : 0]),
    groups: [Math.ceil(cv / groupWidth), chunks, 1],
  };
}

/** One thread per channel (bn_eval_stats.wgsl). */
const channelGroups = (channels: number): [number, number, number] => [Math.ceil(channels / 64), 1, 1];

export const batchNormKernels: GpuKernels<'batchNormTrain' | 'batchNormEval' | 'batchNormBackward'> = {
  batchNormTrain(ctx, { x, gamma, beta, y, mean, invstd, runningMean, runningVar }, s) {
    const r = reduction(s);
    const partial = ctx.scratch(2 * r.chunks * s.channels);
    ctx.stream.dispatch(statsKernels[r.vw], [x, partial], r.params, r.groups);
    ctx.stream.dispatch(
      statsFinishKernel, [x, partial, mean, invstd, runningMean, runningVar],
      uniforms([s.channels, r.chunks, s.rows], [s.eps, s.momentum]), [s.channels, 1, 1],
    );
    ctx.done(partial);
    apply(ctx, x, gamma, beta, mean, invstd, y, s);
  },

  batchNormEval(ctx, { x, gamma, beta, runningMean, runningVar, y }, s) {
    const mean = ctx.scratch(s.channels);
    const invstd = ctx.scratch(s.channels);
    ctx.stream.dispatch(
      evalStatsKernel, [runningMean, runningVar, mean, invstd],
      uniforms([s.channels], [s.eps]), channelGroups(s.channels),
    );
    apply(ctx, x, gamma, beta, mean, invstd, y, s);
    ctx.done(mean, invstd);
  },

  batchNormBackward(ctx, { x, y, gy, gamma, mean, invstd, gx, ggamma, gbeta }, s) {
    const r = reduction(s);
    const partial = ctx.scratch(2 * r.chunks * s.channels);
    const coef = ctx.scratch(4 * s.channels);
    ctx.stream.dispatch(gradKernels[r.vw], [x, y, gy, mean, invstd, partial], r.params, r.groups);
    ctx.stream.dispatch(
      gradFinishKernel, [partial, gamma, mean, invstd, ggamma, gbeta, coef],
      uniforms([s.channels, r.chunks, s.rows]), [s.channels, 1, 1],
    );
    rowPass(ctx, backwardKernels, [x, y, gy, coef, gx], s);
    ctx.done(partial, coef);
  },
};

function apply(
  ctx: KernelContext, x: Slab, gamma: Slab, beta: Slab, mean: Slab, invstd: Slab, y: Slab, s: BatchNormShape,
): void {
  rowPass(ctx, applyKernels, [x, gamma, beta, mean, invstd, y], s);
}

/** One thread per element of [rows][channels] (bn_apply, bn_backward), VW channels at a time. */
function rowPass(ctx: KernelContext, kernels: Record<1 | 4, Kernel>, buffers: Slab[], s: BatchNormShape): void {
  const vw = vectorWidth(s.channels);
  const total = (s.rows * s.channels) / vw;
  ctx.stream.dispatch(kernels[vw], buffers, uniforms([total, s.channels / vw, s.relu ? 1 : 0]), grid1d(total));
}
