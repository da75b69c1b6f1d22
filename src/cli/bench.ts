/**
 * @file `kilosecond bench …`: the seed's results table (`bench datasets`, the default), the augmentation
 * experiment with Grad-CAM (`bench explain`), and throughput measurements (`bench engine`, `bench data`).
 */
import { Argument, type Command } from 'commander';
import { datasetInfo, datasetNames, type DatasetName } from '../data/datasets.js';
import { positiveInt } from './options.js';
import { addRecipeOptions, configFromFlags, type RecipeFlags } from './recipe-options.js';
import { jsonHooks, terminalHooks } from './train.js';

export function register(program: Command): void {
  const bench = program.command('bench').description('measure kilosecond on this machine');
  const datasets = bench
    .command('datasets', { isDefault: true })
    .description("the seed's table: the recipe on MNIST, Fashion-MNIST and CIFAR-10 (results.md, results.json, a report per dataset)")
    .option('--out <dir>', 'folder for the table, the figure and one run folder per dataset', 'runs/bench')
    .option('--datasets <names>', 'comma-separated subset', 'mnist,fashion-mnist,cifar10');
  addRecipeOptions(datasets).action(async (o: RecipeFlags & { out: string; datasets: string }) => {
    const { benchDatasets } = await import('../bench/datasets.js');
    const names = o.datasets.split(',').map((d) => datasetInfo(d.trim()).name as DatasetName);
    const { table } = await benchDatasets({
      config: configFromFlags(o),
      out: o.out,
      datasets: names,
      hooks: () => (process.stderr.isTTY ? terminalHooks(o.batchSize) : jsonHooks()),
    });
    process.stdout.write(`${table}\nResults, figure and reports in ${o.out}\n`);
  });
  const augmentation = bench
    .command('explain')
    .description('the closing experiment: train with and without augmentation, then Grad-CAM both side by side in one report')
    .addArgument(new Argument('<dataset>', 'dataset').choices(datasetNames))
    .option('--out <dir>', 'folder for both runs, the figure and the report', 'runs/augmentation')
    .option('--images <n>', 'test images in the Grad-CAM figure', positiveInt('--images'), 10);
  addRecipeOptions(augmentation).action(async (dataset: DatasetName, o: RecipeFlags & { out: string; images: number }) => {
    const { augmentationExperiment } = await import('../bench/augmentation.js');
    const { table, figure } = await augmentationExperiment({
      config: { ...configFromFlags(o), dataset },
      out: o.out,
      images: o.images,
      hooks: () => (process.stderr.isTTY ? terminalHooks(o.batchSize) : jsonHooks()),
    });
    process.stdout.write(`${table}\nGrad-CAM figure: ${figure}; report: ${o.out}/report.html\n`);
  });
  bench
    .command('data')
    .description('data pipeline throughput: precompute, shard reading, online augmentation, and how long a step waits')
    .option('--images <n>', 'images per generated training set', positiveInt('--images'), 20000)
    .option('--batch-size <n>', 'images per batch', positiveInt('--batch-size'), 512)
    .option('--step-ms <ms>', 'simulated training step for the wait measurement', positiveInt('--step-ms'), 100)
    .action(async (o: { images: number; batchSize: number; stepMs: number }) => {
      const { runDataBenchmark } = await import('../bench/data.js');
      await runDataBenchmark(o);
    });
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
      const { benchEngine } = await import('../bench/engine.js');
      const r = await benchEngine(o);
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(`ResNet-9 width ${r.width}, batch ${r.batch_size}, backend ${r.backend}: ` +
          `${r.train_img_s.toFixed(1)} images/s (median step ${r.median_step_s.toFixed(3)} s over ${r.steps}), peak RSS ${r.peak_rss_mb.toFixed(0)} MB\n`);
      }
    });
}
