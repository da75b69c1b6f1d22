/**
 * @file `kilosecond train <dataset>`: the DAWNBench recipe end to end, with a run folder.
 * On a terminal a progress bar per epoch; otherwise one JSON line per epoch.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { datasetNames } from '../data/datasets.js';
import { writeRunReport } from '../report/run-report.js';
import { recipe, train, type AugmentMode, type TrainConfig, type TrainHooks } from '../train/trainer.js';
import { nonNegativeNumber, positiveInt } from './options.js';

interface TrainFlags {
  epochs: number;
  batchSize: number;
  width?: number;
  lr: number;
  labelSmoothing: number;
  augment: AugmentMode;
  backend: string;
  seed: number;
  dataDir?: string;
  shardsDir?: string;
  out?: string;
  budget?: number;
  tta?: boolean;
  flip: boolean;
  crop: boolean;
  cutout: number;
}

function positiveNumber(option: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${option} takes a number above 0, not '${v}'.`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train ResNet-9 on a dataset with the DAWNBench recipe and write a run folder (checkpoint, metrics, curves, report)')
    .addArgument(program.createArgument('<dataset>', 'dataset').choices(datasetNames))
    .option('--epochs <n>', 'epochs (with --budget: the most the planner may choose)', positiveInt('--epochs'), recipe.epochs)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), recipe.batchSize)
    .option('--width <n>', 'ResNet-9 base width (default 64; with --budget, chosen by the planner unless given)', positiveInt('--width'))
    .option('--lr <rate>', 'peak of the one-cycle learning rate', positiveNumber('--lr'), recipe.lr)
    .option('--label-smoothing <s>', 'label smoothing of the cross-entropy', nonNegativeNumber('--label-smoothing'), recipe.labelSmoothing)
    .addOption(new Option('--augment <mode>', 'augmentation: precomputed TFRecords, online in workers, or none').choices(['precomputed', 'online', 'none']).default(recipe.augment))
    .option('--no-flip', 'no horizontal flips')
    .option('--no-crop', 'no pad + random crop')
    .option('--cutout <side>', 'side of the cutout square, 0 for none', nonNegativeNumber('--cutout'), recipe.augmentation.cutout)
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .option('--seed <n>', 'seed for initialisation, shuffling and augmentation', nonNegativeNumber('--seed'), recipe.seed)
    .option('--data-dir <dir>', 'the only folder to look for the dataset in')
    .option('--shards-dir <dir>', 'where precomputed TFRecord shards go (default ~/.cache/kilosecond/precomputed)')
    .option('--out <dir>', 'run folder (default runs/<dataset>-<time>)')
    .option('--budget <seconds>', 'fit the whole run in this many seconds: measure, then choose width and epochs', positiveNumber('--budget'))
    .option('--tta', 'flip test-time augmentation when evaluating')
    .action(async (dataset: TrainConfig['dataset'], flags: TrainFlags) => {
      const config: TrainConfig = {
        ...recipe,
        dataset,
        epochs: flags.epochs,
        batchSize: flags.batchSize,
        width: flags.width ?? (flags.budget === undefined ? recipe.width : undefined),
        lr: flags.lr,
        labelSmoothing: flags.labelSmoothing,
        augment: flags.augment,
        augmentation: { ...recipe.augmentation, flip: flags.flip, crop: flags.crop, pad: flags.crop ? recipe.augmentation.pad : 0, cutout: flags.cutout, cutoutCount: flags.cutout > 0 ? 1 : 0 },
        backend: flags.backend,
        seed: flags.seed,
        dataDir: flags.dataDir,
        shardsDir: flags.shardsDir,
        out: flags.out ?? `runs/${dataset}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
        budget: flags.budget,
        tta: flags.tta === true,
      };
      let stopRequested = false;
      const onSigint = (): void => {
        if (stopRequested) process.exit(130);
        stopRequested = true;
        process.stderr.write('\nstopping after this step: the checkpoint and report will be written (Ctrl-C again to quit at once)\n');
      };
      process.on('SIGINT', onSigint);
      try {
        const hooks = process.stderr.isTTY ? terminalHooks(config.batchSize) : jsonHooks();
        const result = await train(config, { ...hooks, shouldStop: () => stopRequested });
        const report = await writeRunReport(result, { command: ['kilosecond', ...process.argv.slice(2)].join(' ') });
        const acc = (100 * result.testAccuracy).toFixed(2);
        process.stdout.write(`${result.info.name}: test accuracy ${acc}% after ${result.history.length} epoch(s), ` +
          `${result.timings.total.toFixed(0)} s in total (${result.timings.training.toFixed(0)} s training). Report: ${report}\n`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

/** A bar per epoch on stderr, with loss, accuracy, learning rate, images/s and time left. */
function terminalHooks(batchSize: number): TrainHooks {
  let bar: cliProgress.SingleBar | undefined;
  let epochStart = 0;
  return {
    onPhase: (phase) => {
      if (!phase.startsWith('epoch')) process.stderr.write(`${phase}…\n`);
    },
    onPlan: (plan) => process.stderr.write(`budget plan: width ${plan.width}, ${plan.epochs} epoch(s), about ${plan.predictedSeconds.toFixed(0)} s in total: ${plan.reason}\n`),
    onStep: (epoch, step, steps, lr) => {
      if (!bar) {
        epochStart = performance.now();
        bar = new cliProgress.SingleBar({
          format: `epoch ${epoch + 1} [{bar}] {value}/{total} steps | lr {lr} | {ips} img/s | ETA {eta_formatted}`,
          stream: process.stderr,
        }, cliProgress.Presets.shades_classic);
        bar.start(steps, 0, { lr: '0', ips: '0' });
      }
      const ips = ((step * batchSize) / ((performance.now() - epochStart) / 1000)).toFixed(0);
      bar.update(step, { lr: lr.toFixed(4), ips });
    },
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
function jsonHooks(): TrainHooks {
  const line = (o: object): boolean => process.stderr.write(`${JSON.stringify(o)}\n`);
  return {
    onPhase: (phase) => void line({ phase }),
    onPlan: (plan) => void line({ plan }),
    onEpoch: (r) => void line(r),
  };
}
