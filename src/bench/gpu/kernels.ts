/**
 * @file Kernel micro-benchmark: each DavidNet (ResNet-9, width 64) convolution shape, forward,
 * backward-data and backward-filter, plus the batch norm of its output and a plain `scale` over it
 * (the bandwidth yardstick), timed on the WebGPU backend: GFLOP/s for convolutions, GB/s otherwise.
 * Timings are wall clock over `iters` calls between two syncs, so for small tensors they include
 * the host's cost of recording the dispatches.
 *
 *   node dist/bench/gpu/kernels.js [--batch 512] [--iters 10] [--json] [--sweep]
 *                                  [--layers prep,layer3.res] [--peak-iters 4096]
 *
 * It first measures the adapter's float32 peak (peak.ts) and gives each convolution's share of it.
 * --sweep also times every convolution with every tile shape of gemm.ts (to tune conv.ts's
 * choices). On SwiftShader (no GPU) use a tiny batch and --peak-iters 8: it only proves that every kernel runs.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Backend, Conv3x3Shape, DeviceBuffer } from '../../core/backend.js';
import { forceTiles } from '../../backends/webgpu/conv.js';
import { TILES } from '../../backends/webgpu/gemm.js';
import { createDawnBackend } from '../../backends/webgpu/dawn.js';
import { DEFAULT_PEAK_OPTIONS } from '../../backends/webgpu/peak.js';
import { davidNetLayers } from '../layers.js';

/** DavidNet's convolutions at width 64 on 32x32 inputs (../layers.ts); the residual pair is timed once. */
export const DAVIDNET_LAYERS = davidNetLayers.map(({ name, h, cin, cout }) => ({ name, hw: h, cin, cout }));

export type KernelName = 'forward' | 'backward-data' | 'backward-filter' | 'bn-train' | 'bn-backward' | 'scale';

export interface KernelTiming {
  layer: string;
  kernel: KernelName;
  ms: number;
  /** GFLOP/s for the convolutions, GB/s of DRAM traffic (the minimum the kernel must move) otherwise. */
  rate: number;
}

const isConv = (kernel: KernelName): boolean => kernel.startsWith('forward') || kernel.startsWith('backward');

export interface BenchOptions {
  batch: number;
  iters: number;
  /** Names from DAVIDNET_LAYERS; all when absent. */
  layers?: string[];
  withBatchNorm?: boolean;
}

export async function benchKernels(gpu: Backend, o: BenchOptions): Promise<KernelTiming[]> {
  const { batch, iters } = o;
  const results: KernelTiming[] = [];
  for (const layer of DAVIDNET_LAYERS.filter((l) => !o.layers || o.layers.includes(l.name))) {
    const s: Conv3x3Shape = { n: batch, h: layer.hw, w: layer.hw, cin: layer.cin, cout: layer.cout };
    const pixels = s.n * s.h * s.w;
    const x = filled(gpu, pixels * s.cin, 0.5);
    const w = filled(gpu, 9 * s.cin * s.cout, 0.01);
    // Distinct buffers throughout: aliased inputs and outputs would add copies (stream.ts).
    const [y, z, gy, gz] = [1, 2, 3, 4].map(() => filled(gpu, pixels * s.cout, 0.25));
    const perChannel = (value: number): DeviceBuffer[] => [1, 2, 3, 4, 5, 6].map(() => filled(gpu, s.cout, value));
    const [gamma, beta, mean, invstd, runningMean, runningVar] = perChannel(1);
    const [ggamma, gbeta] = perChannel(0);
    const bnShape = { rows: pixels, channels: s.cout, eps: 1e-5, relu: true };
    const gflop = (2 * pixels * 9 * s.cin * s.cout) / 1e9;
    const gigabytes = (passes: number): number => (pixels * s.cout * 4 * passes) / 1e9;

    const time = async (kernel: KernelName, work: number, run: () => void): Promise<void> => {
      run(); // compiles the pipelines and fills the pools
      await gpu.sync();
      const start = performance.now();
      for (let i = 0; i < iters; i++) run();
      await gpu.sync();
      const ms = (performance.now() - start) / iters;
      results.push({ layer: layer.name, kernel, ms, rate: work / (ms / 1000) });
    };
    await time('forward', gflop, () => gpu.conv3x3({ x, w, y }, s));
    await time('backward-data', gflop, () => gpu.conv3x3BackwardData({ gy: y, w, gx: x }, s));
    await time('backward-filter', gflop, () => gpu.conv3x3BackwardFilter({ x, gy: y, gw: w }, s));
    if (o.withBatchNorm ?? true) {
      // Train: read x twice (statistics, then normalise), write y. Backward: read x, y, gy twice, write gx.
      await time('bn-train', gigabytes(3), () =>
        gpu.batchNormTrain({
          x: y, gamma: gamma!, beta: beta!, y: z, mean: mean!, invstd: invstd!, runningMean: runningMean!, runningVar: runningVar!,
        }, { ...bnShape, momentum: 0.1 }));
      await time('bn-backward', gigabytes(7), () =>
        gpu.batchNormBackward({
          x: y, y: z, gy, gamma: gamma!, mean: mean!, invstd: invstd!, gx: gz, ggamma: ggamma!, gbeta: gbeta!,
        }, bnShape));
      // The bandwidth yardstick: one read, one write.
      await time('scale', gigabytes(2), () => gpu.scale({ a: y, out: z }, { alpha: 0.5, length: pixels * s.cout }));
    }
    for (const buffer of [x, w, y, z, gy, gz, gamma, beta, mean, invstd, runningMean, runningVar, ggamma, gbeta]) {
      gpu.release(buffer!);
    }
  }
  return results;
}

function filled(gpu: Backend, length: number, value: number): DeviceBuffer {
  const buffer = gpu.alloc(length);
  gpu.fill(buffer, value);
  return buffer;
}

/** The timings as a table; with the measured peak (FLOP/s), each convolution's share of it. */
export function formatTimings(rows: KernelTiming[], peakFlops?: number): string {
  const lines = ['layer        kernel           ms/call   rate'];
  for (const r of rows) {
    const unit = isConv(r.kernel) ? 'GFLOP/s' : 'GB/s';
    const share = isConv(r.kernel) && peakFlops ? `   ${((100 * r.rate * 1e9) / peakFlops).toFixed(0)}% of peak` : '';
    lines.push(`${r.layer.padEnd(12)} ${r.kernel.padEnd(16)} ${r.ms.toFixed(3).padStart(8)}   ${r.rate.toFixed(1)} ${unit}${share}`);
  }
  return lines.join('\n');
}

/** Times the convolutions once per tile shape; prints ms per call, the fastest marked '*'. */
export async function sweepTiles(gpu: Backend, o: BenchOptions): Promise<string> {
  const names = Object.keys(TILES) as (keyof typeof TILES)[];
  const byTile = new Map<string, KernelTiming[]>();
  try {
    for (const name of names) {
      forceTiles({ forward: TILES[name], filter: TILES[name] });
      byTile.set(name, await benchKernels(gpu, { ...o, withBatchNorm: false }));
    }
  } finally {
    forceTiles({});
  }
  const lines = [`${'layer / kernel'.padEnd(28)}${names.map((n) => n.padStart(10)).join('')}`];
  byTile.get(names[0]!)!.forEach((row, i) => {
    const ms = names.map((n) => byTile.get(n)![i]!.ms);
    const best = Math.min(...ms);
    const cells = ms.map((m) => `${m.toFixed(3)}${m === best ? '*' : ' '}`.padStart(10));
    lines.push(`${`${row.layer} ${row.kernel}`.padEnd(28)}${cells.join('')}`);
  });
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '512' },
      iters: { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
      sweep: { type: 'boolean', default: false },
      layers: { type: 'string' },
      'peak-iters': { type: 'string', default: String(DEFAULT_PEAK_OPTIONS.iters) },
    },
  });
  const gpu = await createDawnBackend();
  try {
    const info = gpu.adapter.adapterInfo;
    console.log(`adapter: ${info.vendor} ${info.architecture} ${info.device} (${info.description})`);
    const o: BenchOptions = { batch: Number(values.batch), iters: Number(values.iters), layers: values.layers?.split(',') };
    if (values.sweep) console.log(`ms per call by tile shape (gemm.ts TILES):\n${await sweepTiles(gpu, o)}\n`);
    const peakFlops = await gpu.measureFp32Peak({ ...DEFAULT_PEAK_OPTIONS, iters: Number(values['peak-iters']) });
    console.log(`measured float32 peak (register-only FMA loop, peak.ts): ${(peakFlops / 1e9).toFixed(1)} GFLOP/s`);
    const rows = await benchKernels(gpu, o);
    console.log(formatTimings(rows, peakFlops));
    if (values.json) console.log(JSON.stringify({ batch: o.batch, adapter: info, peakFlops, kernels: rows }));
  } finally {
    gpu.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
