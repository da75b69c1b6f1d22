/**
 * @file Where a training step's time goes, kernel by kernel: a Backend wrapper that times every
 * kernel call (wall clock around the call, so it is exact only on a synchronous backend such as
 * the CPU's) and sums the time per kernel and shape. `bench engine --profile` prints the table;
 * the convolutions' rows give BENCHMARKS.md's per-layer figures (effective GFLOP/s and share of
 * the machine's peak).
 */
import type { Backend } from '../core/backend.js';
import { kernelNames } from '../core/kernels.js';

export interface KernelProfileRow {
  kernel: string;
  /** The call's scalar parameters, as `n=512 h=16 w=16 cin=128 cout=256`. */
  shape: string;
  calls: number;
  seconds: number;
  /** Multiply-adds x 2 per call, for the convolutions; 0 for the others. */
  flops: number;
}

/** Multiply-adds x 2 of one convolution call (3x3 or general), from its parameters. */
function convFlops(kernel: string, p: Record<string, number>): number {
  if (kernel.startsWith('conv3x3')) return 2 * p.n! * p.h! * p.w! * 9 * p.cin! * p.cout!;
  if (kernel.startsWith('conv')) return 2 * p.n! * p.oh! * p.ow! * p.k! * p.k! * p.cin! * p.cout!;
  return 0;
}

export interface ProfiledBackend {
  backend: Backend;
  /** Rows since the last reset, slowest first. */
  rows(): KernelProfileRow[];
  reset(): void;
}

export function profiled(inner: Backend): ProfiledBackend {
  let table = new Map<string, KernelProfileRow>();
  const wrapped: Record<string, unknown> = {};
  for (const name of kernelNames) {
    const run = (inner[name] as (b: unknown, p: Record<string, number>) => void).bind(inner);
    wrapped[name] = (buffers: unknown, params: Record<string, number>) => {
      const start = performance.now();
      run(buffers, params);
      const seconds = (performance.now() - start) / 1000;
      const shape = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ');
      const key = `${name} ${shape}`;
      const row = table.get(key) ?? { kernel: name, shape, calls: 0, seconds: 0, flops: 0 };
      row.calls += 1;
      row.seconds += seconds;
      row.flops += convFlops(name, params);
      table.set(key, row);
    };
  }
  const backend = new Proxy(inner, {
    get: (target, key, receiver) => (typeof key === 'string' && key in wrapped ? wrapped[key] : Reflect.get(target, key, receiver)),
  });
  return {
    backend,
    rows: () => [...table.values()].sort((a, b) => b.seconds - a.seconds),
    reset: () => { table = new Map(); },
  };
}

/** The profile as a Markdown table: per kernel and shape, ms per step, share of the step, GFLOP/s. */
export function formatProfile(rows: readonly KernelProfileRow[], steps: number, stepSeconds: number): string {
  const total = rows.reduce((s, r) => s + r.seconds, 0);
  const lines = [
    `kernels: ${(1000 * total / steps).toFixed(1)} ms of a ${(1000 * stepSeconds).toFixed(1)} ms step`,
    '| kernel | shape | calls/step | ms/step | share | GFLOP/s |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const gflops = r.flops > 0 ? (r.flops / r.seconds / 1e9).toFixed(0) : '';
    lines.push(`| ${r.kernel} | ${r.shape} | ${r.calls / steps} | ${(1000 * r.seconds / steps).toFixed(2)} | ${(100 * r.seconds / (stepSeconds * steps)).toFixed(1)}% | ${gflops} |`);
  }
  return lines.join('\n');
}
