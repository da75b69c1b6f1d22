/**
 * @file `kilosecond train <dataset>`: the DAWNBench recipe end to end, with a run folder.
 * On a terminal a progress bar per epoch; otherwise one JSON line per epoch.
 */
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import cliProgress from 'cli-progress';
import { datasetNames } from '../data/datasets.js';
import type { TrainHooks } from '../train/trainer.js';
import type { TrainSettings } from '../train/settings.js';
import { addFolderOptions, folderFromFlags, type FolderFlags } from './folder-options.js';
import { addRecipeOptions, configFromFlags, type RecipeFlags } from './recipe-options.js';

export function register(program: Command): void {
  const command = program
    .command('train')
    .description('train a classifier on a dataset with a recipe (DAWNBench\'s ResNet-9 by default; --recipe fast: the airbench network) and write a run folder (checkpoint, metrics, curves, report)')
    .argument('[dataset]', `${datasetNames.join(', ')}, or a folder of images (DIR/<class>/…, or DIR/train/<class>/… with DIR/test/<class>/…); not needed with --resume`)
    .option('--out <dir>', 'run folder (default runs/<dataset>-<time>)')
    .option('--resume <dir>', 'go on with the run in this folder from its last finished epoch, with its own settings')
    .option('--force', 'train into an --out folder that already holds a model (its files are replaced)')
    .option('--no-report', 'skip the charts and report.html (the checkpoint, metrics.jsonl and summary.json are still written)');
  addFolderOptions(addRecipeOptions(command, 'auto')).action(async (dataset: string | undefined, flags: RecipeFlags & FolderFlags & { out?: string; report: boolean; resume?: string; force?: boolean }) => {
    const { train } = await import('../train/trainer.js');
    const { datasetRunName } = await import('../data/open.js');
    const asked: TrainSettings = {
      ...configFromFlags(flags),
      dataset: dataset ?? '',
      folder: folderFromFlags(flags),
      out: flags.out ?? `runs/${dataset === undefined ? 'run' : datasetRunName(dataset)}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
      overwrite: flags.force === true,
    };
    if (flags.resume === undefined && dataset === undefined) throw new UserError('train needs a dataset (mnist, fashion-mnist, cifar10 or a folder of images), or --resume RUN_DIR');
    if (flags.resume !== undefined && flags.out !== undefined) throw new UserError('--resume goes on in the run\'s own folder: leave out --out');
    const { resumeSettings } = await import('./resume.js');
    const config = flags.resume === undefined ? asked : resumeSettings(flags.resume, command, dataset, asked);
    const resumeCommand = `kilosecond train --resume ${config.out}`;
    let stopRequested = false;
    const onSigint = (): void => {
      if (stopRequested) {
        process.stderr.write(`\nstopped; the last finished epoch is saved: ${resumeCommand}\n`);
        process.exit(130);
      }
      stopRequested = true;
      process.stderr.write(`\nstopping after this step: the model and report will be written, and ${resumeCommand} goes on from the last finished epoch (Ctrl-C again to quit at once)\n`);
    };
    process.on('SIGINT', onSigint);
    try {
      const hooks = process.stderr.isTTY ? terminalHooks() : jsonHooks();
      const result = await train(config, { ...hooks, shouldStop: () => stopRequested });
      let where = `Run folder: ${config.out}`;
      if (flags.report) {
        const { runGradcam, writeRunReport } = await import('../report/run-report.js');
        const gradcam = result.history.length > 0 ? [await runGradcam(result)] : [];
        where = `Report: ${await writeRunReport(result, { command: ['kilosecond', ...process.argv.slice(2)].join(' '), gradcam })}`;
      }
      const acc = (100 * result.testAccuracy).toFixed(2);
      process.stdout.write(`${result.info.name}: test accuracy ${acc}% after ${result.history.length} epoch(s), ` +
        `${result.timings.total.toFixed(0)} s in total (${result.timings.training.toFixed(0)} s training). ${where}\n`);
      if (result.interrupted) process.stdout.write(`Stopped before the end; to go on: ${resumeCommand}\n`);
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}

/** A bar per epoch on stderr, with loss, accuracy, learning rate, images/s and time left. */
export function terminalHooks(): TrainHooks {
  let batchSize = 0;
  let bar: cliProgress.SingleBar | undefined;
  let epochStart = 0;
  let dataBar: { stage: string; bar: cliProgress.SingleBar; start: number } | undefined;
  return {
    onPhase: (phase) => {
      if (!phase.startsWith('epoch')) process.stderr.write(`${phase}…\n`);
    },
    onDataProgress: (stage, done, total) => {
      if (dataBar?.stage !== stage) {
        dataBar?.bar.stop();
        const b = new cliProgress.SingleBar({ format: `${stage} [{bar}] {value}/{total} images | {ips} img/s | ETA {eta_formatted}`, stream: process.stderr }, cliProgress.Presets.shades_classic);
        b.start(total, 0, { ips: '0' });
        dataBar = { stage, bar: b, start: performance.now() };
      }
      dataBar.bar.update(done, { ips: (done / Math.max(1e-3, (performance.now() - dataBar.start) / 1000)).toFixed(0) });
      if (done === total) {
        dataBar.bar.stop();
        dataBar = undefined;
      }
    },
    onPrecision: (choice) => process.stderr.write(`precision: ${choice.reason}\n`),
    onRecipe: (_recipe, reason) => process.stderr.write(`recipe: ${reason}\n`),
    onMemory: (reason) => process.stderr.write(`memory: ${reason}\n`),
    onPlan: (plan) => process.stderr.write(`budget plan: ${plan.recipe} recipe, width ${plan.width}, ${+(plan.steps / plan.stepsPerEpoch).toFixed(1)} epoch(s), about ${plan.predictedSeconds.toFixed(0)} s in total: ${plan.reason}\n`),
    onReplan: (r) => process.stderr.write(`\nre-plan after step ${r.after_step}: ${r.reason}\n`),
    onTrainStart: (config, width, epochs) => {
      batchSize = config.batchSize;
      process.stderr.write(`training the ${config.recipe} recipe: width ${width}, ${epochs} epoch(s) of batch ${config.batchSize}\n`);
    },
    onStep: (epoch, step, steps, lr) => {
      if (!bar) {
        epochStart = performance.now();
        bar = new cliProgress.SingleBar({
          format: `epoch ${epoch + 1} [{bar}] {value}/{total} steps | loss {loss} acc {acc} | lr {lr} | {ips} img/s | ETA {eta_formatted}`,
          stream: process.stderr,
        }, cliProgress.Presets.shades_classic);
        bar.start(steps, 0, { lr: '0', ips: '0', loss: '-', acc: '-' });
      }
      const ips = ((step * batchSize) / ((performance.now() - epochStart) / 1000)).toFixed(0);
      bar.update(step, { lr: lr.toFixed(4), ips });
    },
    onRunningMetrics: (_epoch, accuracy, loss) => bar?.update({ acc: `${(100 * accuracy).toFixed(1)}%`, loss: loss.toFixed(3) }),
    onEpoch: (r, epochs) => {
      bar?.stop();
      bar = undefined;
      process.stderr.write(`epoch ${r.epoch}/${epochs}: train loss ${r.train_loss.toFixed(4)} acc ${(100 * r.train_accuracy).toFixed(2)}% | ` +
        `test loss ${r.test_loss.toFixed(4)} acc ${(100 * r.test_accuracy).toFixed(2)}% | ${r.images_per_second.toFixed(0)} img/s | ` +
        `${r.train_seconds.toFixed(1)} s + ${r.eval_seconds.toFixed(1)} s eval\n`);
    },
  };
}

/** One JSON line per event that matters, for logs and pipelines. */
export function jsonHooks(): TrainHooks {
  const line = (o: object): boolean => process.stderr.write(`${JSON.stringify(o)}\n`);
  return {
    onPhase: (phase) => void line({ phase }),
    onPrecision: (choice) => void line({ precision: choice }),
    onRecipe: (recipe, reason) => void line({ recipe, reason }),
    onMemory: (reason) => void line({ memory: reason }),
    onPlan: (plan) => void line({ plan }),
    onReplan: (replan) => void line({ replan }),
    onTrainStart: (config, width, epochs) => void line({ train: { recipe: config.recipe, width, epochs, batch_size: config.batchSize } }),
    onEpoch: (r) => void line(r),
  };
}
