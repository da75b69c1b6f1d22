/**
 * @file `npm run bench [-- engine|data]`: kilosecond against its peer on this machine.
 *
 * engine (default): training images/s and peak RSS, ours and PyTorch's, each in a fresh process
 * (so peak RSS is per run), and the ratio: ResNet-9 in the configurations of issue 2, then the
 * fast recipe's airbench network at its batch of 1024. The machine's load is printed before and
 * after: a run beside another heavy process is void.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { type TorchResult, debianPython, runTorchTrainStep, torchAvailable } from './peers.js';
import type { EngineBenchResult } from './engine.js';
import { fastRecipe, recipe } from '../train/trainer.js';
import type { RecipeName } from '../train/recipes.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const sharedDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');

/** The fast recipe's step in PyTorch (src/bench/cpu/fast_torch.py, the airbench network), at batch 1024. */
function runTorchFastStep(steps: number): TorchResult {
  const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'bench', 'cpu', 'fast_torch.py');
  const out = execFileSync(debianPython, [script, '--steps', String(steps)], { encoding: 'utf8' });
  const lines = out.trim().split('\n');
  const r = JSON.parse(lines[lines.length - 1]) as { images_per_second: number; peak_rss_mb: number };
  return { train_img_s: r.images_per_second, peak_rss_mb: r.peak_rss_mb };
}

function ours(backend: string, name: RecipeName, width: number, batchSize: number, steps: number): EngineBenchResult {
  const out = execFileSync(process.execPath, [cli, 'bench', 'engine', '--backend', backend, '--recipe', name, '--width', String(width),
    '--batch-size', String(batchSize), '--steps', String(steps), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as EngineBenchResult;
}

function engine(args: string[]): void {
  const backend = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : recipe.backend;
  const steps = args.includes('--steps') ? Number(args[args.indexOf('--steps') + 1]) : 5;
  // The recipe, then a quarter of its batch, then a quarter of its width; then the fast recipe.
  const configs = [
    { recipe: 'dawnbench', width: recipe.width, batchSize: recipe.batchSize },
    { recipe: 'dawnbench', width: recipe.width, batchSize: recipe.batchSize / 4 },
    { recipe: 'dawnbench', width: recipe.width / 4, batchSize: recipe.batchSize },
    { recipe: 'fast', width: fastRecipe.width, batchSize: fastRecipe.batchSize },
  ] as const;
  const haveTorch = torchAvailable();
  if (!haveTorch) console.log('PyTorch (Debian python3-torch) not found at /usr/bin/python3: ours only.');
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: string[] = [];
  for (const c of configs) {
    const k = ours(backend, c.recipe, c.width, c.batchSize, steps);
    const peer = c.recipe === 'fast' ? () => runTorchFastStep(steps) : () => runTorchTrainStep(sharedDir, c.width, c.batchSize, steps);
    const t = haveTorch ? peer() : undefined;
    const ratio = t ? (k.train_img_s / t.train_img_s).toFixed(2) : '-';
    rows.push(`| ${c.recipe} | ${c.width} | ${c.batchSize} | ${k.train_img_s.toFixed(1)} | ${t ? t.train_img_s.toFixed(1) : '-'} | ${ratio}x | ` +
      `${k.peak_rss_mb.toFixed(0)} | ${t ? t.peak_rss_mb.toFixed(0) : '-'} |`);
    console.log(JSON.stringify({ config: c, kilosecond: k, pytorch: t ?? null }));
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`\n| recipe | width | batch | kilosecond ${backend} img/s | PyTorch img/s | ratio | kilosecond peak RSS MB | PyTorch peak RSS MB |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

const [suite = 'engine', ...rest] = process.argv.slice(2);
if (suite === 'engine') engine(rest);
else if (suite === 'data') {
  execFileSync(process.execPath, [cli, 'bench', 'data', ...rest], { stdio: 'inherit' });
  execFileSync(process.execPath, [cli, 'bench', 'decode'], { stdio: 'inherit' });
}
else {
  console.error(`unknown benchmark suite '${suite}': use engine or data`);
  process.exitCode = 2;
}
