/**
 * @file The recipe's options, shared by `train` and `bench datasets` so both read the same flags
 * the same way.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { recipe, type AugmentMode, type TrainConfig } from '../train/trainer.js';
import { addAugmentOptions, augmentFromFlags, wholeNumber, type AugmentFlags } from './augment-options.js';
import { addDataOptions, type DataFlags } from './data-options.js';
import { nonNegativeNumber, positiveInt } from './options.js';

export interface RecipeFlags extends AugmentFlags, DataFlags {
  epochs: number;
  batchSize: number;
  width?: number;
  lr: number;
  labelSmoothing: number;
  augment: AugmentMode;
  backend: string;
  seed: number;
  shardsDir?: string;
  budget?: number;
  tta?: boolean;
  recalibrateBn: number;
}

function positiveNumber(option: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${option} takes a number above 0, not '${v}'.`);
    return n;
  };
}

export function addRecipeOptions(command: Command): Command {
  return addDataOptions(addAugmentOptions(command))
    .option('--epochs <n>', 'epochs (with --budget: the most the planner may choose)', positiveInt('--epochs'), recipe.epochs)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), recipe.batchSize)
    .option('--width <n>', `ResNet-9 base width (default ${recipe.width}; with --budget, chosen by the planner unless given)`, positiveInt('--width'))
    .option('--lr <rate>', 'peak of the one-cycle learning rate', positiveNumber('--lr'), recipe.lr)
    .option('--label-smoothing <s>', 'label smoothing of the cross-entropy', nonNegativeNumber('--label-smoothing'), recipe.labelSmoothing)
    .addOption(new Option('--augment <mode>', 'augmentation: precomputed TFRecords, online in workers, or none').choices(['precomputed', 'online', 'none']).default(recipe.augment))
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .option('--seed <n>', 'seed for initialisation, shuffling and augmentation', nonNegativeNumber('--seed'), recipe.seed)
    .option('--shards-dir <dir>', 'where precomputed TFRecord shards go (default ~/.cache/kilosecond/precomputed)')
    .option('--budget <seconds>', 'fit the whole run in this many seconds: measure, then choose width and epochs', positiveNumber('--budget'))
    .option('--tta', 'flip test-time augmentation when evaluating')
    .option('--recalibrate-bn <batches>', 're-estimate batch-norm statistics over this many un-augmented training batches before the final evaluation (0: off)', wholeNumber('--recalibrate-bn', 1000), recipe.recalibrateBatches);
}

export function configFromFlags(flags: RecipeFlags): Omit<TrainConfig, 'dataset' | 'out'> {
  return {
    ...recipe,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    width: flags.width ?? (flags.budget === undefined ? recipe.width : undefined),
    lr: flags.lr,
    labelSmoothing: flags.labelSmoothing,
    augment: flags.augment,
    augmentation: augmentFromFlags(flags),
    backend: flags.backend,
    seed: flags.seed,
    dataDir: flags.dataDir,
    verifyData: flags.verify,
    shardsDir: flags.shardsDir,
    budget: flags.budget,
    tta: flags.tta === true,
    recalibrateBatches: flags.recalibrateBn,
  };
}
