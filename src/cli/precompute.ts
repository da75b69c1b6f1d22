/**
 * @file `kilosecond precompute <dataset> --epochs N --out DIR`: every epoch's augmented, shuffled
 * training set as TFRecord shards plus manifest.json (see src/data/precompute.ts), for
 * `train --augment precomputed`. Progress: a bar on a terminal, JSON lines otherwise.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { augmentFor, defaultAugment } from '../data/augment.js';
import { defaultShardSize } from '../data/manifest.js';
import { recipe } from '../train/settings.js';
import { addAugmentOptions, augmentFromFlags, wholeNumber, type AugmentFlags } from './augment-options.js';
import { addDataOptions, dataLoadOptions, type DataFlags } from './data-options.js';
import { positiveInt } from './options.js';

interface PrecomputeCliOptions extends AugmentFlags, DataFlags {
  epochs: number;
  out: string;
  seed: number;
  shardSize: number;
  download: boolean;
}

/** Reports progress as a bar on a terminal, or as one JSON line per step for logs and pipes. */
function progressReporter(stage: string): { update(done: number, total: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${stage} [{bar}] {percentage}% {value}/{total} {eta_formatted}`, stream: process.stderr }, Presets.shades_classic);
    let started = false;
    return {
      update(done, total) {
        if (!started) { bar.start(Number.isFinite(total) ? total : 0, 0); started = true; }
        bar.update(done);
      },
      stop() { if (started) bar.stop(); },
    };
  }
  let lastPercent = -1;
  return {
    update(done, total) {
      const percent = Number.isFinite(total) && total > 0 ? Math.floor((100 * done) / total) : -1;
      if (percent === lastPercent) return;
      lastPercent = percent;
      process.stderr.write(`${JSON.stringify({ stage, done, total: Number.isFinite(total) ? total : null })}\n`);
    },
    stop() {},
  };
}

export function register(program: Command): void {
  const command = program
    .command('precompute')
    .description('write every epoch\'s augmented, shuffled training set as TFRecord shards and a manifest.json')
    .argument('<dataset>', 'mnist, fashion-mnist, cifar10, or a folder of images')
    .requiredOption('--epochs <n>', 'epochs to precompute', positiveInt('--epochs'))
    .requiredOption('--out <dir>', 'folder for the shards and manifest.json (reused when the config is the same)')
    .option('--seed <s>', 'seeds the shuffles and the augmentation', wholeNumber('--seed', 2 ** 32 - 1), recipe.seed)
    .option('--shard-size <k>', 'records per shard', positiveInt('--shard-size'), defaultShardSize)
    .option('--no-download', 'never download missing dataset files');
  addAugmentOptions(addDataOptions(command)).action(async (dataset: string, o: PrecomputeCliOptions) => {
      // Loaded here, not at start-up: other commands need not pay for them.
      const { openDataset } = await import('../data/open.js');
      const { precompute } = await import('../data/precompute.js');
      const download = progressReporter('download');
      const loaded = await openDataset(dataset, {
        split: 'train', download: o.download, onProgress: (d, t) => download.update(d, t), ...dataLoadOptions(o),
      }).finally(() => download.stop());
      const info = loaded.info;
      const augment = augmentFor({ cutoutCount: defaultAugment.cutoutCount, ...augmentFromFlags(o) }, info);
      const bar = progressReporter('precompute');
      const started = performance.now();
      const { manifest, reusedEpochs } = await precompute({
        info, train: loaded.train!, sources: loaded.sources, outDir: o.out, epochs: o.epochs, seed: o.seed,
        augment, shardSize: o.shardSize, onProgress: (d, t) => bar.update(d, t),
      }).finally(() => bar.stop());
      const seconds = (performance.now() - started) / 1000;
      const shards = manifest.epochs.reduce((n, e) => n + e.length, 0);
      process.stdout.write(`${o.out}: ${manifest.epochs.length} epochs of ${info.name} in ${shards} shards` +
        `${reusedEpochs > 0 ? ` (${reusedEpochs} reused from an earlier run)` : ''}, ${seconds.toFixed(1)} s\n`);
    });
}
