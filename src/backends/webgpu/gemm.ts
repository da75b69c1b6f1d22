/**
 * @file The tiled GEMM (shaders/gemm.wgsl) and its tile shapes, plus the dense-layer matmul.
 * Convolutions reuse the same core with their own operand file (conv.ts).
 */
import type { GpuKernels, KernelContext } from './context.js';
import type { Slab } from './memory.js';
import { uniforms } from './shaders.js';
import { defineKernel, type Kernel } from './stream.js';

/** A workgroup computes a BM x BN tile of C, BK reduction steps per shared-memory refill;
 * each of its (BM / TM) x (BN / TN) = 256 threads owns TM x TN outputs. */
export interface Tile {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

export const TILES = {
  /** Wide layers (cout >= 128) with many pixels: 8x8 outputs per thread. */
  large: { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
  /** cout = 64 with many pixels. */
  wide: { BM: 128, BN: 64, BK: 16, TM: 8, TN: 4 },
  /** large with twice the reduction per refill (16 KiB of workgroup memory, WebGPU's minimum limit). */
  large16: { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 },
  /** Fewer rows than columns. */
  tall: { BM: 64, BN: 128, BK: 16, TM: 4, TN: 8 },
  /** Few tiles: smaller ones keep more of the GPU busy. */
  small: { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  /** The input layer: K = 9 * 4 = 36 is three refills of 12. */
  prep: { BM: 128, BN: 64, BK: 12, TM: 8, TN: 4 },
} satisfies Record<string, Tile>;

/** The fields of GemmParams in gemm.wgsl. */
interface GemmParams {
  M: number;
  N: number;
  K: number;
  /** Reduction length per split (a multiple of BK); >= K when the reduction is not split. */
  kChunk?: number;
  h?: number;
  w?: number;
  cin?: number;
  cout?: number;
  transA?: boolean;
  transB?: boolean;
}

const kernels = new Map<string, Kernel>();

/** The GEMM core specialised for one operand file, tile and set of operand constants. */
export function gemmKernel(operand: string, tile: Tile, consts: Record<string, number> = {}): Kernel {
  const all = { ...tile, ...consts };
  const key = `${operand}${JSON.stringify(all)}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = defineKernel(['gemm.wgsl', operand], ['read', 'read', 'write'], all);
    kernels.set(key, kernel);
  }
  return kernel;
}

/** Records C = A x B (operands as the kernel's operand file reads them), split `splits` ways. */
export function dispatchGemm(
  ctx: KernelContext, kernel: Kernel, tile: Tile, a: Slab, b: Slab, c: Slab, p: GemmParams, splits = 1,
): void {
  const params = uniforms([
    p.M, p.N, p.K, p.kChunk ?? p.K, p.h ?? 0, p.w ?? 0, p.cin ?? 0, p.cout ?? 0,
    p.transA ? 1 : 0, p.transB ? 1 : 0,
  ]);
  ctx.stream.dispatch(kernel, [a, b, c], params, [Math.ceil(p.N / tile.BN), Math.ceil(p.M / tile.BM), splits]);
}

export const denseKernels: GpuKernels<'matmul'> = {
  matmul(ctx, { a, b, out }, s) {
    const tile = TILES.small;
    dispatchGemm(ctx, gemmKernel('matmul.wgsl', tile), tile, a, b, out, {
      M: s.m, N: s.n, K: s.k, transA: s.transA, transB: s.transB,
    });
  },
};
