// Prints the closing table of gpu.sh from what its steps left in LOG_DIR.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const load = (name) => {
  const path = join(dir, name);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
};
const rows = [];
const stepsFile = join(dir, 'steps.tsv');
const steps = existsSync(stepsFile)
  ? readFileSync(stepsFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => line.split('\t'))
  : [];
const adapter = load('adapter.json');
rows.push(['device', adapter ? `${adapter.adapter.vendor} ${adapter.adapter.architecture} ${adapter.adapter.description}` : 'none']);
// What a faster arithmetic path could use (features.ts): Dawn's defaults, then with NVIDIA's toggles.
if (adapter?.arithmetic) {
  const { defaults, toggled } = adapter.arithmetic;
  const yes = (b) => (b ? 'offered' : 'not offered');
  for (const f of Object.keys(defaults.arithmetic)) rows.push([`  ${f}`, `${yes(defaults.arithmetic[f])} by default, ${yes(toggled.arithmetic[f])} with the toggles`]);
}
for (const [step, verdict] of steps) rows.push([step, verdict]);
const kernels = load('kernels.json');
if (kernels) {
  const peak = kernels.peakFlops;
  if (peak) rows.push(['float32 peak, measured (FMA loop)', `${(peak / 1e12).toFixed(2)} TFLOP/s`]);
  for (const k of kernels.kernels) {
    const conv = /^(forward|backward)/.test(k.kernel);
    const share = conv && peak ? `  ${((100 * k.rate * 1e9) / peak).toFixed(0)}% of peak` : '';
    rows.push([`${k.layer} ${k.kernel} (batch ${kernels.batch})`, `${k.ms.toFixed(3)} ms  ${k.rate.toFixed(0)} ${conv ? 'GFLOP/s' : 'GB/s'}${share}`]);
  }
}
// 25 epochs of a training set at the measured step time; the trainer drops the last partial batch.
const projections = [['engine.json', 'CIFAR-10', 50000], ['engine-28.json', 'Fashion-MNIST', 60000]];
for (const [file, dataset, images] of projections) {
  const engine = load(file);
  if (!engine) continue;
  const image = (engine.image ?? [32, 32, 3]).join('x');
  rows.push([`train step (width ${engine.width}, batch ${engine.batch_size}, ${image})`, `${engine.median_step_s.toFixed(4)} s  ${engine.train_img_s.toFixed(0)} img/s`]);
  const seconds = 25 * Math.floor(images / engine.batch_size) * engine.median_step_s;
  rows.push([`  25 epochs of ${images} images (${dataset}), projected`, `${seconds.toFixed(1)} s of training`]);
}
// The peer's variants beside our step on the same images: the ratio is PyTorch's step time over ours.
const torch = load('torch.json');
const ours = load('engine.json');
if (torch) {
  for (const [variant, r] of Object.entries(torch.variants)) {
    const name = `PyTorch ${torch.torch} ${variant} (${torch.device})`;
    if (r.error) { rows.push([name, r.error]); continue; }
    const ratio = ours ? `  kilosecond ${(r.median_step_s / ours.median_step_s).toFixed(2)}x its speed` : '';
    rows.push([name, `${r.median_step_s.toFixed(4)} s  ${r.train_img_s.toFixed(0)} img/s${ratio}`]);
  }
}
const recipe = load('fashion-mnist/summary.json');
if (recipe) {
  rows.push([`Fashion-MNIST recipe (${recipe.epochs} epochs, width ${recipe.width})`,
    `${(100 * recipe.test_accuracy).toFixed(2)}% test accuracy, ${recipe.total_seconds.toFixed(1)} s total (${recipe.train_seconds.toFixed(1)} s training)`]);
}
const width = Math.max(...rows.map(([name]) => name.length));
console.log('\n==== summary ====');
for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
