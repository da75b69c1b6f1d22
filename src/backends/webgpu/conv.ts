/**
 * @file 3x3 convolutions as implicit GEMMs (shaders/conv3x3.wgsl on the gemm.wgsl core).
 *
 *   forward         y [pixels][cout] = im2col(x) [pixels][9 cin] x w [9 cin][cout]
 *   backward-data   gx = conv3x3(gy, w') with w' = w rotated 180 degrees and transposed
 *                   (shaders/conv3x3_flip.wgsl): the forward kernel with cin and cout swapped
 *   backward-filter gw [9 cin][cout] = im2col(x)^T x gy, a reduction over every pixel of the
 *                   batch, split across workgroups and finished by shaders/split_sum.wgsl
 *
 * The kernels load 4 channels at a time, so channel counts that are not multiples of 4 (the
 * 1- or 3-channel input layer) are zero-padded into scratch buffers first.
 */
import type { Conv3x3Shape, ConvShape } from '../../core/backend.js';
import type { GpuKernels, KernelContext } from './context.js';
import { pad, type PadShape } from './elementwise.js';
import { dispatchGemm, gemmKernel, TILES, type Tile } from './gemm.js';
import type { Slab } from './memory.js';
import { grid1d, uniforms } from './shaders.js';
import { defineKernel } from './stream.js';

const flipKernel = defineKernel(['common.wgsl', 'conv3x3_flip.wgsl'], ['read', 'write']);
const splitSumKernel = defineKernel(['common.wgsl', 'split_sum.wgsl'], ['read', 'write']);

/** Workgroups worth keeping in flight: a few per multiprocessor of a large GPU (132 on an H100). */
const TARGET_WORKGROUPS = 528;
/** A split of the backward-filter reduction covers at least this many BK-slices of pixels. */
const MIN_SLICES_PER_SPLIT = 8;

/** Tiles forced by a benchmark sweep (src/bench/gpu/kernels.ts) or a test; empty in normal use. */
let forcedTiles: { forward?: Tile; filter?: Tile } = {};

/** Benchmarks and tests only: use these tiles instead of the heuristics below ({} restores them). */
export function forceTiles(tiles: { forward?: Tile; filter?: Tile }): void {
  forcedTiles = tiles;
}

export const convKernels: GpuKernels<'conv3x3' | 'conv3x3BackwardData' | 'conv3x3BackwardFilter'> = {
  conv3x3(ctx, { x, w, y }, s) {
    const p = new PaddedOperands(ctx, s);
    forward(ctx, p.activations(x, s.cin), p.weights(w), p.activationsOut(y, s.cout), p.shape);
    p.finish();
  },
  conv3x3BackwardData: (ctx, { gy, w, gx }, s) => backwardData(ctx, gy, w, gx, s),
  conv3x3BackwardFilter: (ctx, { x, gy, gw }, s) => backwardFilter(ctx, x, gy, gw, s),
};

function backwardData(ctx: KernelContext, gy: Slab, w: Slab, gx: Slab, s: Conv3x3Shape): void {
  const p = new PaddedOperands(ctx, s);
  const { cin, cout } = p.shape;
  const flipped = p.take(9 * cin * cout);
  ctx.stream.dispatch(flipKernel, [p.weights(w), flipped], uniforms([9 * cin * cout, cin, cout]), grid1d(9 * cin * cout));
  forward(ctx, p.activations(gy, s.cout), flipped, p.activationsOut(gx, s.cin), { ...p.shape, cin: cout, cout: cin });
  p.finish();
}

function backwardFilter(ctx: KernelContext, x: Slab, gy: Slab, gw: Slab, s: Conv3x3Shape): void {
  const p = new PaddedOperands(ctx, s);
  const { cin, cout } = p.shape;
  const pixels = s.n * s.h * s.w;
  const gw4 = p.weightsOut(gw);
  const M = 9 * cin;
  const N = cout;
  const tile = forcedTiles.filter ?? (M >= 128 && N >= 128 ? TILES.large : TILES.small);
  const { splits, kChunk } = splitReduction(pixels, tile, Math.ceil(M / tile.BM) * Math.ceil(N / tile.BN));
  const partial = splits === 1 ? gw4 : p.take(splits * M * N);
  const params = { M, N, K: pixels, kChunk, h: s.h, w: s.w, cin, cout };
  const kernel = gemmKernel('conv3x3.wgsl', tile, { FILTER: 1 });
  dispatchGemm(ctx, kernel, tile, p.activations(x, s.cin), p.activations(gy, s.cout), partial, params, splits);
  if (partial !== gw4) {
    ctx.stream.dispatch(splitSumKernel, [partial, gw4], uniforms([M * N, splits]), grid1d(M * N));
  }
  p.finish();
}

/** y = conv3x3(x, w) for channel counts that are multiples of 4. */
function forward(ctx: KernelContext, x: Slab, w: Slab, y: Slab, s: Conv3x3Shape): void {
  const M = s.n * s.h * s.w;
  const K = 9 * s.cin;
  const tile = forcedTiles.forward ?? forwardTile(M, s.cout, K);
  dispatchGemm(ctx, gemmKernel('conv3x3.wgsl', tile, { FILTER: 0 }), tile, x, w, y, {
    M, N: s.cout, K, h: s.h, w: s.w, cin: s.cin, cout: s.cout,
  });
}

/**
 * The largest tile that still gives the GPU enough workgroups; the input layer gets its own.
 * Chosen from a tile sweep (src/bench/gpu/kernels.ts --sweep): BENCHMARKS.md, "WebGPU tuning
 * choices (H100)".
 */
function forwardTile(M: number, N: number, K: number): Tile {
  if (K <= 36) return TILES.prep;
  const tiles = (t: Tile): number => Math.ceil(M / t.BM) * Math.ceil(N / t.BN);
  if (N >= 128 && tiles(TILES.large) >= TARGET_WORKGROUPS / 4) return TILES.large;
  if (tiles(TILES.wide) >= TARGET_WORKGROUPS / 4) return TILES.wide;
  return TILES.small;
}

/** How many ways to split a reduction over `pixels` so that about TARGET_WORKGROUPS run. */
function splitReduction(pixels: number, tile: Tile, tiles: number): { splits: number; kChunk: number } {
  const slices = Math.ceil(pixels / tile.BK);
  const wanted = Math.ceil(TARGET_WORKGROUPS / tiles);
  const splits = Math.max(1, Math.min(wanted, Math.floor(slices / MIN_SLICES_PER_SPLIT)));
  const kChunk = Math.ceil(slices / splits) * tile.BK;
  return { splits: Math.ceil(pixels / kChunk), kChunk };
}

/**
 * One convolution call's operands with every channel count zero-padded to a multiple of 4 (the
 * kernels load 4 channels at a time): inputs are copied into padded scratch, outputs are computed
 * in padded scratch and cropped into place by finish(). Operands already aligned are used as they
 * are. All scratch goes back to the pool together at finish(), after the call is recorded.
 */
class PaddedOperands {
  /** The shape the kernels see. */
  readonly shape: Conv3x3Shape;
  private readonly taken: Slab[] = [];
  private readonly crops: (() => void)[] = [];

  constructor(private readonly ctx: KernelContext, private readonly original: Conv3x3Shape) {
    this.shape = { ...original, cin: roundUp4(original.cin), cout: roundUp4(original.cout) };
  }

  take(floats: number): Slab {
    const slab = this.ctx.scratch(floats);
    this.taken.push(slab);
    return slab;
  }

  /** An activation [pixels][channels], as [pixels][roundUp4(channels)]. */
  activations(src: Slab, channels: number): Slab {
    return this.padded(src, this.activationLayout(channels));
  }

  /** Weights [9][cin][cout], as [9][cin4][cout4]. */
  weights(src: Slab): Slab {
    return this.padded(src, this.weightLayout());
  }

  /** Where to write an activation [pixels][channels] in its padded form. */
  activationsOut(dst: Slab, channels: number): Slab {
    return this.paddedOut(dst, this.activationLayout(channels));
  }

  /** Where to write weights [9][cin][cout] in their padded form. */
  weightsOut(dst: Slab): Slab {
    return this.paddedOut(dst, this.weightLayout());
  }

  /** Crops the padded outputs into place and hands the scratch back. */
  finish(): void {
    for (const crop of this.crops) crop();
    this.ctx.done(...this.taken);
  }

  private activationLayout(channels: number): PadShape {
    const { n, h, w } = this.original;
    return { outer: n * h * w, srcMid: 1, srcInner: channels, dstMid: 1, dstInner: roundUp4(channels) };
  }

  private weightLayout(): PadShape {
    const { cin, cout } = this.original;
    return { outer: 9, srcMid: cin, srcInner: cout, dstMid: this.shape.cin, dstInner: this.shape.cout };
  }

  /** `src` copied into zero-padded scratch, or `src` itself when the layout pads nothing. */
  private padded(src: Slab, layout: PadShape): Slab {
    if (padsNothing(layout)) return src;
    const dst = this.take(layout.outer * layout.dstMid * layout.dstInner);
    pad(this.ctx, src, dst, layout);
    return dst;
  }

  /** Padded scratch that finish() crops into `dst`, or `dst` itself when the layout pads nothing. */
  private paddedOut(dst: Slab, layout: PadShape): Slab {
    if (padsNothing(layout)) return dst;
    const src = this.take(layout.outer * layout.dstMid * layout.dstInner);
    const crop = { outer: layout.outer, srcMid: layout.dstMid, srcInner: layout.dstInner, dstMid: layout.srcMid, dstInner: layout.srcInner };
    this.crops.push(() => pad(this.ctx, src, dst, crop));
    return src;
  }
}

const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;
const padsNothing = (l: PadShape): boolean => l.srcMid === l.dstMid && l.srcInner === l.dstInner;

const generalForwardKernel = defineKernel(['common.wgsl', 'conv_general_params.wgsl', 'conv_general.wgsl'], ['read', 'read', 'write']);
const generalDataKernel = defineKernel(['common.wgsl', 'conv_general_params.wgsl', 'conv_general_backward_data.wgsl'], ['read', 'read', 'write']);
const generalFilterKernel = defineKernel(['common.wgsl', 'conv_general_params.wgsl', 'conv_general_backward_filter.wgsl'], ['read', 'read', 'write']);

/** The general convolution's uniforms, with `threads` (one per element written) first. */
const generalParams = (threads: number, s: ConvShape): ArrayBuffer =>
  uniforms([threads, s.n, s.h, s.w, s.cin, s.cout, s.k, s.pad, s.oh, s.ow]);

/**
 * The general convolution (any kernel size and padding): direct, one thread per element written,
 * for the small layers that use it (the fast recipe's 2x2 whitening layer).
 */
export const generalConvKernels: GpuKernels<'conv' | 'convBackwardData' | 'convBackwardFilter'> = {
  conv(ctx, { x, w, y }, s) {
    const threads = s.n * s.oh * s.ow * s.cout;
    ctx.stream.dispatch(generalForwardKernel, [x, w, y], generalParams(threads, s), grid1d(threads));
  },
  convBackwardData(ctx, { gy, w, gx }, s) {
    const threads = s.n * s.h * s.w * s.cin;
    ctx.stream.dispatch(generalDataKernel, [gy, w, gx], generalParams(threads, s), grid1d(threads));
  },
  convBackwardFilter(ctx, { x, gy, gw }, s) {
    const threads = s.k * s.k * s.cin * s.cout;
    ctx.stream.dispatch(generalFilterKernel, [x, gy, gw], generalParams(threads, s), grid1d(threads));
  },
};
