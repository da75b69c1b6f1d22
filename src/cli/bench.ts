/**
 * @file `kilosecond bench …`: measurements. `bench engine` times training steps on synthetic data.
 */
import type { Command } from 'commander';
import { benchEngine } from '../bench/engine.js';
import { positiveInt } from './options.js';

export function register(program: Command): void {
  const bench = program.command('bench').description('measure kilosecond on this machine');
  bench
    .command('engine')
    .description('ResNet-9 training throughput on synthetic 3x32x32 data (median step after warm-up) and peak memory')
    .option('--backend <name>', 'cpu, webgpu or reference', 'cpu')
    .option('--width <n>', 'ResNet-9 base width', positiveInt('--width'), 64)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), 512)
    .option('--steps <n>', 'timed steps', positiveInt('--steps'), 5)
    .option('--warmup <n>', 'untimed steps first', positiveInt('--warmup'), 2)
    .option('--json', 'end with one JSON line {"train_img_s": …, "peak_rss_mb": …}')
    .action(async (o: { backend: string; width: number; batchSize: number; steps: number; warmup: number; json?: boolean }) => {
      const r = await benchEngine(o);
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(`ResNet-9 width ${r.width}, batch ${r.batch_size}, backend ${r.backend}: ` +
          `${r.train_img_s.toFixed(1)} images/s (median step ${r.median_step_s.toFixed(3)} s over ${r.steps}), peak RSS ${r.peak_rss_mb.toFixed(0)} MB\n`);
      }
    });
}
