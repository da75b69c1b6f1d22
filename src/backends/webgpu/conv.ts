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
import type { Conv3x3Shape } from '../../core/backend.js';
import type { KernelContext } from './context.js';
import { pad } from './elementwise.js';
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

/** Tiles forced by a benchmark sweep (bench-kernels.ts) or a test; empty in normal use. */
let forcedTiles: { forward?: Tile; filter?: Tile } = {};

/** Benchmarks and tests only: use these tiles instead of the heuristics below ({} restores them). */
export function forceTiles(tiles: { forward?: Tile; filter?: Tile }): void {
  forcedTiles = tiles;
}

const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;

export function conv3x3(ctx: KernelContext, x: Slab, w: Slab, y: Slab, s: Conv3x3Shape): void {
  const cin4 = roundUp4(s.cin);
  const cout4 = roundUp4(s.cout);
  const rows = s.n * s.h * s.w;
  const scratch = new Scratch(ctx);
  const x4 = scratch.padded(x, rows, 1, s.cin, 1, cin4);
  const w4 = scratch.padded(w, 9, s.cin, s.cout, cin4, cout4);
  const y4 = cout4 === s.cout ? y : scratch.take(rows * cout4);
  forward(ctx, x4, w4, y4, { ...s, cin: cin4, cout: cout4 });
  if (y4 !== y) pad(ctx, y4, y, { outer: rows, srcMid: 1, srcInner: cout4, dstMid: 1, dstInner: s.cout });
  scratch.release();
}

export function conv3x3BackwardData(ctx: KernelContext, gy: Slab, w: Slab, gx: Slab, s: Conv3x3Shape): void {
  const cin4 = roundUp4(s.cin);
  const cout4 = roundUp4(s.cout);
  const rows = s.n * s.h * s.w;
  const scratch = new Scratch(ctx);
  const gy4 = scratch.padded(gy, rows, 1, s.cout, 1, cout4);
  const w4 = scratch.padded(w, 9, s.cin, s.cout, cin4, cout4);
  const flipped = scratch.take(9 * cin4 * cout4);
  const total = 9 * cin4 * cout4;
  ctx.stream.dispatch(flipKernel, [w4, flipped], uniforms([total, cin4, cout4]), grid1d(total));
  const gx4 = cin4 === s.cin ? gx : scratch.take(rows * cin4);
  forward(ctx, gy4, flipped, gx4, { ...s, cin: cout4, cout: cin4 });
  if (gx4 !== gx) pad(ctx, gx4, gx, { outer: rows, srcMid: 1, srcInner: cin4, dstMid: 1, dstInner: s.cin });
  scratch.release();
}

export function conv3x3BackwardFilter(ctx: KernelContext, x: Slab, gy: Slab, gw: Slab, s: Conv3x3Shape): void {
  const cin4 = roundUp4(s.cin);
  const cout4 = roundUp4(s.cout);
  const pixels = s.n * s.h * s.w;
  const scratch = new Scratch(ctx);
  const x4 = scratch.padded(x, pixels, 1, s.cin, 1, cin4);
  const gy4 = scratch.padded(gy, pixels, 1, s.cout, 1, cout4);
  const gw4 = cin4 === s.cin && cout4 === s.cout ? gw : scratch.take(9 * cin4 * cout4);

  const M = 9 * cin4;
  const N = cout4;
  const tile = forcedTiles.filter ?? (M >= 128 && N >= 128 ? TILES.large : TILES.small);
  const { splits, kChunk } = splitReduction(pixels, tile, Math.ceil(M / tile.BM) * Math.ceil(N / tile.BN));
  const partial = splits === 1 ? gw4 : scratch.take(splits * M * N);
  const params = { M, N, K: pixels, kChunk, h: s.h, w: s.w, cin: cin4, cout: cout4 };
  dispatchGemm(ctx, gemmKernel('conv3x3.wgsl', tile, { FILTER: 1 }), tile, x4, gy4, partial, params, splits);
  if (partial !== gw4) {
    ctx.stream.dispatch(splitSumKernel, [partial, gw4], uniforms([M * N, splits]), grid1d(M * N));
  }
  if (gw4 !== gw) pad(ctx, gw4, gw, { outer: 9, srcMid: cin4, srcInner: cout4, dstMid: s.cin, dstInner: s.cout });
  scratch.release();
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
 * On an H100 (bench-kernels --sweep) `large` was the fastest or within noise of it for every
 * DavidNet layer at batch 512 except the input layer.
 */
function forwardTile(M: number, N: number, K: number): Tile {
  if (K <= 36) return TILES.prep;
  const tiles = (t: Tile): number => Math.ceil(M / t.BM) * Math.ceil(N / t.BN);
  if (N >= 128 && tiles(TILES.large) >= TARGET_WORKGROUPS / 4) return TILES.large;
  if (tiles(TILES.wide) >= TARGET_WORKGROUPS / 4) return TILES.wide;
  return TILES.small;
}

/** How many ways to split a reduction over `pixels` so that about TARGET_WORKGROUPS run. */
export function splitReduction(pixels: number, tile: Tile, tiles: number): { splits: number; kChunk: number } {
  const slices = Math.ceil(pixels / tile.BK);
  const wanted = Math.ceil(TARGET_WORKGROUPS / tiles);
  const splits = Math.max(1, Math.min(wanted, Math.floor(slices / MIN_SLICES_PER_SPLIT)));
  const kChunk = Math.ceil(slices / splits) * tile.BK;
  return { splits: Math.ceil(pixels / kChunk), kChunk };
}

/** Scratch buffers of one convolution call, handed back together once it is recorded. */
class Scratch {
  private readonly taken: Slab[] = [];

  constructor(private readonly ctx: KernelContext) {}

  take(floats: number): Slab {
    const slab = this.ctx.scratch(floats);
    this.taken.push(slab);
    return slab;
  }

  /** `src` [outer][mid][inner] with mid and inner zero-padded, or `src` itself if already so. */
  padded(src: Slab, outer: number, mid: number, inner: number, mid4: number, inner4: number): Slab {
    if (mid === mid4 && inner === inner4) return src;
    const dst = this.take(outer * mid4 * inner4);
    pad(this.ctx, src, dst, { outer, srcMid: mid, srcInner: inner, dstMid: mid4, dstInner: inner4 });
    return dst;
  }

  release(): void {
    this.ctx.done(...this.taken);
  }
}
