/**
 * @file The adapter's measured float32 peak: the yardstick for "what fraction of the GPU do our
 * convolutions use". Datasheet peaks assume boost clocks and perfect issue; a register-only FMA
 * loop (shaders/fma_peak.wgsl) shows what this adapter, driver and WGSL compiler actually reach.
 */
import type { KernelContext } from './context.js';
import type { Slab } from './memory.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const peakKernel = defineKernel(['common.wgsl', 'fma_peak.wgsl'], ['write']);

/** Floating-point operations per thread and round: 8 chains x 4 lanes x (multiply + add). */
const FLOPS_PER_ROUND = 64;
/** The chain's map v <- A v + B is a contraction towards 1, so values stay finite for any length. */
const A = 0.9995;
const B = 0.0005;

export interface PeakOptions {
  /** Threads per dispatch: enough to fill every unit (an H100 holds about 270k at once). */
  threads: number;
  /** FMA rounds per thread. */
  iters: number;
  /** Timed dispatches (after one untimed warm-up); the best rate wins. */
  repeats: number;
}

export const DEFAULT_PEAK_OPTIONS: PeakOptions = { threads: 1 << 20, iters: 4096, repeats: 5 };

/** What the probe computes for thread i, in float64: the closed form of its chains. */
export function expectedProbeValue(i: number, threads: number, iters: number): number {
  const fixedPoint = B / (1 - A);
  let sum = 0;
  for (let chain = 0; chain < 8; chain++) {
    const start = i / threads + chain / 8;
    sum += 4 * (fixedPoint + (start - fixedPoint) * A ** iters);
  }
  return sum;
}

function dispatchProbe(ctx: KernelContext, out: Slab, threads: number, iters: number): void {
  ctx.stream.dispatch(peakKernel, [out], uniforms([threads, iters], [A, B]), grid1d(threads));
}

/**
 * The best of `repeats` timed dispatches, in FLOP/s (wall clock from submit to completion).
 * Throws if the probe's results are wrong: a compiler that skipped rounds would fake a peak.
 */
export async function measureFp32Peak(ctx: KernelContext, o: PeakOptions = DEFAULT_PEAK_OPTIONS): Promise<number> {
  const out = ctx.scratch(o.threads);
  try {
    dispatchProbe(ctx, out, o.threads, o.iters);
    await ctx.stream.idle();
    let best = 0;
    for (let r = 0; r < o.repeats; r++) {
      const start = performance.now();
      dispatchProbe(ctx, out, o.threads, o.iters);
      await ctx.stream.idle();
      const seconds = (performance.now() - start) / 1000;
      best = Math.max(best, (o.threads * o.iters * FLOPS_PER_ROUND) / seconds);
    }
    const values = await ctx.stream.readBack(out, o.threads * 4);
    for (const i of [0, o.threads >> 1, o.threads - 1]) {
      const expected = expectedProbeValue(i, o.threads, o.iters);
      if (!(Math.abs(values[i]! - expected) <= 1e-3 * Math.abs(expected))) {
        throw new Error(`WebGPU: the FMA probe gave ${values[i]} for thread ${i}, expected ${expected}; its timing means nothing`);
      }
    }
    return best;
  } finally {
    ctx.done(out);
  }
}
