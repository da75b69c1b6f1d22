/**
 * @file `kilosecond train <dataset>`: the DAWNBench recipe end to end, with a run folder.
 * On a terminal a progress bar per epoch; otherwise one JSON line per epoch.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { datasetNames } from '../data/datasets.js';
import type { TrainConfig, TrainHooks } from '../train/trainer.js';
import { addRecipeOptions, configFromFlags, type RecipeFlags } from './recipe-options.js';

export function register(program: Command): void {
  const command = program
    .command('train')
    .description('train ResNet-9 on a dataset with the DAWNBench recipe and write a run folder (checkpoint, metrics, curves, report)')
    .addArgument(program.createArgument('<dataset>', 'dataset').choices(datasetNames))
    .option('--out <dir>', 'run folder (default runs/<dataset>-<time>)')
    .option('--no-report', 'skip the charts and report.html (the checkpoint, metrics.jsonl and summary.json are still written)');
  addRecipeOptions(command).action(async (dataset: TrainConfig['dataset'], flags: RecipeFlags & { out?: string; report: boolean }) => {
    const { train } = await import('../train/trainer.js');
    const config: TrainConfig = {
      ...configFromFlags(flags),
      dataset,
      out: flags.out ?? `runs/${dataset}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
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
      let where = `Run folder: ${config.out}`;
      if (flags.report) {
        const { writeRunReport } = await import('../report/run-report.js');
        where = `Report: ${await writeRunReport(result, { command: ['kilosecond', ...process.argv.slice(2)].join(' ') })}`;
      }
      const acc = (100 * result.testAccuracy).toFixed(2);
      process.stdout.write(`${result.info.name}: test accuracy ${acc}% after ${result.history.length} epoch(s), ` +
        `${result.timings.total.toFixed(0)} s in total (${result.timings.training.toFixed(0)} s training). ${where}\n`);
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}

/** A bar per epoch on stderr, with loss, accuracy, learning rate, images/s and time left. */
export function terminalHooks(batchSize: number): TrainHooks {
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
    onPlan: (plan) => void line({ plan }),
    onEpoch: (r) => void line(r),
  };
}
