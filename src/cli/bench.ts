/**
 * @file `kilosecond bench …`: the seed's results table (`bench datasets`, the default), the augmentation
 * experiment with Grad-CAM (`bench explain`), and throughput measurements (`bench engine`, `bench data`).
 */
import { Option, type Command } from 'commander';
import { datasetNames } from '../data/datasets.js';
import { defaultExplainImages } from '../explain/select.js';
import { type RecipeName, recipeNames } from '../train/recipes.js';
import { recipe, recipeDefaults } from '../train/settings.js';
import { lines, UserError } from '../core/errors.js';
import { positiveInt } from './options.js';
import { type Precision, precisions } from '../core/precision.js';
import { addRecipeOptions, configFromFlags, type RecipeFlags } from './recipe-options.js';
import { addFolderOptions, folderFromFlags, type FolderFlags } from './folder-options.js';
import { jsonHooks, terminalHooks } from './train.js';

/** `bench datasets` and `bench explain`: the same table, runs and report, for the datasets asked. */
async function runBench(o: RecipeFlags & FolderFlags & { out: string; images: number }, what: { datasets: string[]; compareAugmentation: boolean; title?: (network: string) => string }): Promise<void> {
  const { checkDatasetArgument } = await import('../data/open.js');
  // A mistyped name is a mistake on the command line, not a row of the table.
  what.datasets.forEach(checkDatasetArgument);
  const { benchDatasets } = await import('../bench/datasets.js');
  // The table names its recipe (the article's by default); `bench explain` lets each dataset's images choose, as `train` does.
  const { table, rows, failures } = await benchDatasets({
    settings: { ...configFromFlags(o), folder: folderFromFlags(o) },
    out: o.out,
    gradcamImages: o.images,
    ...what,
    hooks: (run) => ({
      ...(process.stderr.isTTY ? terminalHooks() : jsonHooks()),
      onReuse: (dir) => process.stderr.write(`${run}: the finished run in ${dir} has these settings; reusing it (delete the folder to train again)\n`),
    }),
  });
  process.stdout.write(`${table}\nResults, Grad-CAM grids and the report (report.html) in ${o.out}\n`);
  // A table with some rows is a result; one with none is a failure to say so.
  if (failures.length === rows.length) throw new UserError(lines(failures));
}

export function register(program: Command): void {
  const bench = program.command('bench').description('measure kilosecond on this machine');
  const datasets = bench
    .command('datasets', { isDefault: true })
    .description("the seed's table: the recipe on MNIST, Fashion-MNIST and CIFAR-10 (results.md, results.json, a report per dataset)")
    .option('--out <dir>', 'folder for the table, the figure and one run folder per dataset', 'runs/bench')
    .option('--datasets <names>', `comma-separated: ${datasetNames.join(', ')}, or folders of images`, datasetNames.join(','))
    .option('--compare-augmentation', "also train each dataset without augmentation, and show both models' Grad-CAM side by side")
    .option('--images <n>', "test images in each dataset's Grad-CAM grid", positiveInt('--images'), defaultExplainImages);
  addFolderOptions(addRecipeOptions(datasets)).action(async (o: RecipeFlags & FolderFlags & { out: string; datasets: string; compareAugmentation?: boolean; images: number }) => {
    await runBench(o, { datasets: o.datasets.split(',').map((d) => d.trim()), compareAugmentation: o.compareAugmentation === true });
  });
  const augmentation = bench
    .command('explain')
    .description("the closing experiment: train with and without augmentation, then Grad-CAM both side by side in one report (the recipe as train chooses it without a budget, unless --recipe names one)")
    .argument('<dataset>', `${datasetNames.join(', ')}, or a folder of images (DIR/<class>/…, or DIR/train/<class>/… with DIR/test/<class>/…)`)
    .option('--out <dir>', 'folder for both runs, the figure and the report', 'runs/augmentation')
    .option('--images <n>', 'test images in the Grad-CAM figure', positiveInt('--images'), defaultExplainImages);
  addFolderOptions(addRecipeOptions(augmentation, 'auto')).action(async (dataset: string, o: RecipeFlags & FolderFlags & { out: string; images: number }) => {
    const { datasetRunName } = await import('../data/open.js');
    await runBench(o, { datasets: [dataset], compareAugmentation: true, title: (network) => `kilosecond: where does ${network} look on ${datasetRunName(dataset)}, with and without augmentation?` });
  });
  bench
    .command('data')
    .description('data pipeline throughput: precompute, shard reading, online augmentation, and how long a step waits')
    .option('--images <n>', 'images per generated training set', positiveInt('--images'), 20000)
    .option('--batch-size <n>', 'images per batch', positiveInt('--batch-size'), recipe.batchSize)
    .option('--step-ms <ms>', 'simulated training step for the wait measurement', positiveInt('--step-ms'), 100)
    .action(async (o: { images: number; batchSize: number; stepMs: number }) => {
      const { runDataBenchmark } = await import('../bench/data.js');
      await runDataBenchmark(o);
    });
  bench
    .command('decode')
    .description('image folders: JPEG photos of 256x256 decoded and resized to 32x32 per second (sharp, the folder loader and its two stages, and @napi-rs/canvas in one thread for comparison)')
    .option('--photos <n>', 'generated photos', positiveInt('--photos'), 2000)
    .option('--json', 'end with one JSON line')
    .action(async (o: { photos: number; json?: boolean }) => {
      const { formatDecodeBenchmark, runDecodeBenchmark } = await import('../bench/decode.js');
      const r = await runDecodeBenchmark(o);
      process.stdout.write(`${o.json ? JSON.stringify(r) : formatDecodeBenchmark(r)}\n`);
    });
  bench
    .command('gpu')
    .description("the WebGPU adapter's arithmetic: shader-f16, subgroups and subgroup matrices (the matrix units), with Dawn's defaults and with the toggles that unlock them on NVIDIA (the GPU benchmark itself is src/bench/gpu/gpu.sh)")
    .option('--features', 'print what the adapter offers')
    .option('--json', 'one JSON line instead')
    .action(async (o: { features?: boolean; json?: boolean }) => {
      if (!o.features) throw new UserError('bench gpu: pass --features; the GPU training benchmark is src/bench/gpu/gpu.sh (BENCHMARKS.md says how it runs)');
      const { formatArithmetic, probeArithmetic } = await import('../backends/webgpu/features.js');
      const { dawnInstance } = await import('../backends/webgpu/dawn.js');
      const found = await probeArithmetic(dawnInstance);
      if (!found) throw new UserError('bench gpu: no WebGPU adapter found (Dawn needs a Vulkan, Metal or D3D12 driver; on Linux install libvulkan1 and your GPU\'s Vulkan driver)');
      process.stdout.write(`${o.json ? JSON.stringify(found) : formatArithmetic(found)}\n`);
    });
  bench
    .command('engine')
    .description('a recipe\'s training throughput on synthetic 3x32x32 data (median step after warm-up) and peak memory')
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .addOption(new Option('--precision <p>', 'the convolutions\' precision: fp32, or bf16 (cpu backend on AMX or AVX512-BF16)').choices(precisions).default('fp32'))
    .addOption(new Option('--recipe <name>', 'whose network and optimiser: dawnbench (ResNet-9) or fast (airbench)').choices(recipeNames).default(recipe.recipe))
    .option('--width <n>', 'network width (default: the recipe\'s)', positiveInt('--width'))
    .option('--batch-size <n>', 'images per step (default: the recipe\'s)', positiveInt('--batch-size'))
    .option('--steps <n>', 'timed steps', positiveInt('--steps'), 5)
    .option('--warmup <n>', 'untimed steps first', positiveInt('--warmup'), 2)
    .option('--profile', 'also time every kernel call and print where the step\'s time goes (per kernel and shape)')
    .option('--json', 'end with one JSON line {"train_img_s": …, "peak_rss_mb": …}')
    .action(async (o: { backend: string; precision: Precision; recipe: RecipeName; width?: number; batchSize?: number; steps: number; warmup: number; profile?: boolean; json?: boolean }) => {
      const { benchEngine } = await import('../bench/engine.js');
      const { formatProfile } = await import('../bench/profile.js');
      const defaults = recipeDefaults[o.recipe];
      const r = await benchEngine({ ...o, width: o.width ?? defaults.width, batchSize: o.batchSize ?? defaults.batchSize });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(`${r.recipe} recipe's network, width ${r.width}, batch ${r.batch_size}, backend ${r.backend}, ${r.precision}: ` +
          `${r.train_img_s.toFixed(1)} images/s (median step ${r.median_step_s.toFixed(3)} s over ${r.steps}), peak RSS ${r.peak_rss_mb.toFixed(0)} MB\n`);
        if (r.profile) process.stdout.write(`${formatProfile(r.profile, r.steps, r.median_step_s)}\n`);
      }
    });
}
