/**
 * @file `npm run bench [-- engine|data]`: kilosecond against its peer on this machine.
 *
 * engine (default): training images/s and peak RSS, ours and PyTorch's, float32 and bf16 on each
 * side, each in a fresh process (so peak RSS is per run), and the ratios: ResNet-9 in the
 * configurations of issue 2, then the fast recipe's airbench network at its batch of 1024. The machine's load is printed before and
 * after: a run beside another heavy process is void.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { type TorchResult, debianPython, runTorchTrainStep, torchAvailable } from './peers.js';
import { cpuBf16Available } from '../backends/index.js';
import type { Precision } from '../core/precision.js';
import type { EngineBenchResult } from './engine.js';
import { fastRecipe, recipe } from '../train/settings.js';
import type { RecipeName } from '../train/recipes.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const sharedDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');

/** The fast recipe's step in PyTorch (src/bench/cpu/fast_torch.py, the airbench network), at batch 1024. */
function runTorchFastStep(steps: number, precision: Precision): TorchResult {
  const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'bench', 'cpu', 'fast_torch.py');
  const out = execFileSync(debianPython, [script, '--steps', String(steps), '--precision', precision], { encoding: 'utf8' });
  const lines = out.trim().split('\n');
  const r = JSON.parse(lines[lines.length - 1]) as { images_per_second: number; peak_rss_mb: number };
  return { train_img_s: r.images_per_second, peak_rss_mb: r.peak_rss_mb };
}

function ours(backend: string, precision: Precision, name: RecipeName, width: number, batchSize: number, steps: number): EngineBenchResult {
  const out = execFileSync(process.execPath, [cli, 'bench', 'engine', '--backend', backend, '--precision', precision, '--recipe', name, '--width', String(width),
    '--batch-size', String(batchSize), '--steps', String(steps), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as EngineBenchResult;
}

/** Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX): then PyTorch's autocast is the peer a competent user runs. */
function cpuHasBf16(): boolean {
  try {
    return /\b(avx512_bf16|amx_bf16)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

const rate = (r: { train_img_s: number } | undefined): string => (r ? r.train_img_s.toFixed(1) : '-');
const rss = (r: { peak_rss_mb: number } | undefined): string => (r ? r.peak_rss_mb.toFixed(0) : '-');

/**
 * Each configuration in every precision on both sides, each run in a fresh process. The headline
 * ratio is our faster precision against PyTorch bf16 autocast where this CPU has bf16 arithmetic,
 * against PyTorch float32 elsewhere; both ratios are printed.
 */
async function engine(args: string[]): Promise<void> {
  const backend = args.includes('--backend') ? args[args.indexOf('--backend') + 1]! : recipe.backend;
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
  const oursBf16 = backend === 'cpu' && (await cpuBf16Available());
  const peerBf16 = cpuHasBf16();
  const headline = peerBf16 ? 'PyTorch bf16' : 'PyTorch fp32';
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: string[] = [];
  for (const c of configs) {
    const k32 = ours(backend, 'fp32', c.recipe, c.width, c.batchSize, steps);
    const k16 = oursBf16 ? ours(backend, 'bf16', c.recipe, c.width, c.batchSize, steps) : undefined;
    const peer = (p: Precision): TorchResult => (c.recipe === 'fast' ? runTorchFastStep(steps, p) : runTorchTrainStep(sharedDir, c.width, c.batchSize, steps, p));
    const t32 = haveTorch ? peer('fp32') : undefined;
    const t16 = haveTorch && peerBf16 ? peer('bf16') : undefined;
    const best = k16 && k16.train_img_s > k32.train_img_s ? k16 : k32;
    const ratio = (t: TorchResult | undefined): string => (t ? `${(best.train_img_s / t.train_img_s).toFixed(2)}x` : '-');
    rows.push(`| ${c.recipe} | ${c.width} | ${c.batchSize} | ${rate(k32)} | ${rate(k16)} | ${rate(t32)} | ${rate(t16)} | ` +
      `${ratio(t32)} | **${ratio(peerBf16 ? t16 : t32)}** | ${rss(k32)} / ${rss(k16)} | ${rss(t32)} / ${rss(t16)} |`);
    console.log(JSON.stringify({ config: c, kilosecond: { fp32: k32, bf16: k16 ?? null }, pytorch: { fp32: t32 ?? null, bf16: t16 ?? null } }));
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`\nours: ${backend} backend, our faster precision in the ratios; headline: against ${headline}`);
  console.log('| recipe | width | batch | ours fp32 img/s | ours bf16 img/s | PyTorch fp32 img/s | PyTorch bf16 img/s | ours / PyTorch fp32 | ours / headline peer | ours peak RSS MB fp32 / bf16 | PyTorch peak RSS MB fp32 / bf16 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

const [suite = 'engine', ...rest] = process.argv.slice(2);
if (suite === 'engine') await engine(rest);
else if (suite === 'data') {
  execFileSync(process.execPath, [cli, 'bench', 'data', ...rest], { stdio: 'inherit' });
  execFileSync(process.execPath, [cli, 'bench', 'decode'], { stdio: 'inherit' });
}
else {
  console.error(`unknown benchmark suite '${suite}': use engine or data`);
  process.exitCode = 2;
}
