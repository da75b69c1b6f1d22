/**
 * @file Times every 3x3 convolution layer of DavidNet (width 64, 32x32 input; or of the airbench
 * network with --net airbench) on the native CPU backend: forward, backward data and backward
 * filter, in GFLOP/s, so each can be set beside PyTorch's figure from src/bench/cpu/conv_torch.py
 * (same layers, from ../layers.ts; same table).
 *
 *   node dist/bench/cpu/conv.js [--batch 128] [--reps 3] [--threads 2] [--isa avx512|amx|...]
 *                               [--conv auto|direct|winograd2|winograd4] [--clock cpu] [--net davidnet|airbench]
 *
 * `--clock cpu` times with the process's CPU time instead of the wall clock: with --threads 1
 * on a machine that another job keeps busy, that still measures what one free core would do.
 *
 * Check `uptime` before and after: a run beside another heavy process is void. GFLOP/s are
 * "effective": the direct convolution's 2 * n * h * w * 9 * cin * cout over the time taken, so
 * Winograd layers (2.25x fewer multiplies) can exceed the machine's float32 peak.
 */
import { parseArgs } from 'node:util';
import type { Conv3x3Shape } from '../../core/backend.js';
import { type ConvAlgorithm, createCpuBackend, type Isa } from '../../backends/cpu/index.js';
import { type BenchNetwork, benchNetworks } from '../layers.js';

const passes = ['forward', 'backwardData', 'backwardFilter'] as const;

function main(): void {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '128' },
      reps: { type: 'string', default: '3' },
      threads: { type: 'string' },
      isa: { type: 'string' },
      conv: { type: 'string' },
      clock: { type: 'string', default: 'wall' },
      net: { type: 'string', default: 'davidnet' },
    },
  });
  const batch = Number(values.batch);
  const reps = Number(values.reps);
  const backend = createCpuBackend({
    ...(values.threads ? { threads: Number(values.threads) } : {}),
    ...(values.isa ? { isa: values.isa as Isa } : {}),
    ...(values.conv ? { conv: values.conv as ConvAlgorithm } : {}),
  });
  const now = values.clock === 'cpu'
    ? (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }
    : (): number => Number(process.hrtime.bigint()) / 1e9;
  console.log(`${backend.name}, batch ${batch}, best of ${reps}, ${values.clock} clock`);
  console.log(`${'layer'.padEnd(12)}${passes.map((p) => `${p} GFLOP/s`.padStart(24)).join('')}`);
  let stepSeconds = 0;
  let stepFlops = 0;
  const layers = benchNetworks[values.net as BenchNetwork];
  if (!layers) throw new Error(`unknown network '${values.net}': davidnet or airbench`);
  for (const layer of layers) {
    const s: Conv3x3Shape = { n: batch, h: layer.h, w: layer.h, cin: layer.cin, cout: layer.cout };
    const pixels = s.n * s.h * s.w;
    const x = backend.alloc(pixels * s.cin);
    const y = backend.alloc(pixels * s.cout);
    const w = backend.alloc(9 * s.cin * s.cout);
    [x, y, w].forEach((b, i) => backend.write(b, Float32Array.from({ length: b.length }, (_, j) => Math.sin(j * (i + 1)))));
    const run = {
      forward: () => backend.conv3x3({ x, w, y }, s),
      backwardData: () => backend.conv3x3BackwardData({ gy: y, w, gx: x }, s),
      backwardFilter: () => backend.conv3x3BackwardFilter({ x, gy: y, gw: w }, s),
    };
    const flops = 2 * pixels * 9 * s.cin * s.cout;
    const cells = passes.map((pass) => {
      run[pass]();  // warm up: scratch buffers, page faults
      let best = Infinity;
      for (let r = 0; r < reps; r++) {
        const start = now();
        run[pass]();
        best = Math.min(best, now() - start);
      }
      stepSeconds += best * layer.count;
      stepFlops += flops * layer.count;
      return `${(flops / best / 1e9).toFixed(1)} (${(best * 1e3).toFixed(1)} ms)`.padStart(24);
    });
    console.log(`${layer.name.padEnd(12)}${cells.join('')}`);
    [x, y, w].forEach((b) => backend.release(b));
  }
  console.log(
    `all convs of one training step: ${(stepSeconds * 1e3).toFixed(0)} ms, ${(stepFlops / stepSeconds / 1e9).toFixed(1)} GFLOP/s, ` +
      `${(batch / stepSeconds).toFixed(1)} images/s if convs were all`,
  );
  backend.dispose();
}

main();
