/**
 * @file The recipe's options, shared by `train` and `bench datasets` so both read the same flags
 * the same way.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../core/errors.js';
import { recipeNames, type RecipeName } from '../train/recipes.js';
import { precisionSettings, type PrecisionSetting } from '../train/precision.js';
import { fastRecipe, recipe, recipeDefaults, type AugmentMode, type TrainConfig } from '../train/trainer.js';
import { addAugmentOptions, augmentFromFlags, wholeNumber, type AugmentFlags } from './augment-options.js';
import { addDataOptions, type DataFlags } from './data-options.js';
import { nonNegativeNumber, positiveInt } from './options.js';

export interface RecipeFlags extends AugmentFlags, DataFlags {
  recipe: RecipeName;
  epochs?: number;
  batchSize?: number;
  width?: number;
  lr?: number;
  labelSmoothing?: number;
  augment: AugmentMode;
  backend: string;
  precision: PrecisionSetting;
  seed: number;
  shardsDir?: string;
  budget?: number;
  tta?: boolean;
  recalibrateBn: number;
}

/** "25; fast: 10": an option's default under each recipe, for its help. */
function byRecipe(value: (r: typeof recipe) => unknown): string {
  const dawnbench = value(recipe);
  const fast = value(fastRecipe);
  return dawnbench === fast ? `default ${String(dawnbench)}` : `default ${String(dawnbench)}; --recipe fast: ${String(fast)}`;
}

/** Options the fast recipe has no use for: given with it, they are refused rather than ignored. */
const notInFast = [
  ['cutout', '--cutout'],
  ['cutoutCount', '--cutout-count'],
] as const;

function positiveNumber(option: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${option} takes a number above 0, not '${v}'.`);
    return n;
  };
}

export function addRecipeOptions(command: Command): Command {
  return addDataOptions(addAugmentOptions(command))
    .addOption(new Option('--recipe <name>', 'dawnbench: ResNet-9 as the article trains it; fast: the airbench network, about 8x fewer FLOPs (README, "Recipes")').choices(recipeNames).default(recipe.recipe))
    .option('--epochs <n>', `epochs (${byRecipe((r) => r.epochs)}; with --budget: the most the planner may choose)`, positiveInt('--epochs'))
    .option('--batch-size <n>', `images per step (${byRecipe((r) => r.batchSize)})`, positiveInt('--batch-size'))
    .option('--width <n>', `network width: ResNet-9's base width, the airbench network's first group (default ${recipe.width}; with --budget, chosen by the planner unless given)`, positiveInt('--width'))
    .option('--lr <rate>', `peak of the learning rate (${byRecipe((r) => +r.lr.toFixed(4))})`, positiveNumber('--lr'))
    .option('--label-smoothing <s>', `label smoothing of the cross-entropy (${byRecipe((r) => r.labelSmoothing)})`, nonNegativeNumber('--label-smoothing'))
    .addOption(new Option('--augment <mode>', 'augmentation: precomputed TFRecords, online in workers, or none').choices(['precomputed', 'online', 'none']).default(recipe.augment))
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .addOption(new Option('--precision <p>', "the convolutions' precision: bf16 (operands in bfloat16, float32 accumulation, on AMX or AVX512-BF16), fp32, or auto: the faster here, measured (docs/precision.md)").choices(precisionSettings).default(recipe.precision))
    .option('--seed <n>', 'seed for initialisation, shuffling and augmentation', nonNegativeNumber('--seed'), recipe.seed)
    .option('--shards-dir <dir>', 'where precomputed TFRecord shards go (default ~/.cache/kilosecond/precomputed)')
    .option('--budget <seconds>', 'fit the whole run in this many seconds: measure, then choose width and epochs', positiveNumber('--budget'))
    .option('--tta', 'test-time augmentation at the final evaluation: mirror images (dawnbench), mirror and 1-pixel shifts (fast, where it is on by default); only the views training used (no mirror with --no-flip)')
    .option('--no-tta', 'no test-time augmentation')
    .option('--recalibrate-bn <batches>', 're-estimate batch-norm statistics over this many un-augmented training batches before the final evaluation (0: off)', wholeNumber('--recalibrate-bn', 1000), recipe.recalibrateBatches);
}

export function configFromFlags(flags: RecipeFlags): Omit<TrainConfig, 'dataset' | 'out'> {
  const defaults = recipeDefaults[flags.recipe];
  if (flags.recipe === 'fast') {
    const given = notInFast.filter(([field]) => flags[field] !== undefined).map(([, flag]) => flag);
    if (given.length > 0) throw new UserError(`${given.join(' and ')}: the fast recipe has no cutout (it augments by 2-pixel translation and alternating flips); drop ${given.length > 1 ? 'them' : 'it'}, or use --recipe dawnbench`);
  }
  const augmentation = augmentFromFlags(flags);
  return {
    ...defaults,
    epochs: flags.epochs ?? defaults.epochs,
    batchSize: flags.batchSize ?? defaults.batchSize,
    width: flags.width ?? (flags.budget === undefined ? defaults.width : undefined),
    lr: flags.lr ?? defaults.lr,
    labelSmoothing: flags.labelSmoothing ?? defaults.labelSmoothing,
    augment: flags.augment,
    // The recipe's augmentation, with what the flags changed.
    augmentation: {
      ...defaults.augmentation,
      crop: augmentation.crop,
      ...(augmentation.flip === undefined ? {} : { flip: augmentation.flip }),
      ...(augmentation.pad === undefined ? {} : { pad: augmentation.pad }),
      ...(augmentation.padMode === undefined ? {} : { padMode: augmentation.padMode }),
      ...(augmentation.cutout === undefined ? {} : { cutout: augmentation.cutout }),
      cutoutCount: augmentation.cutoutCount ?? defaults.augmentation.cutoutCount,
      ...(augmentation.crop ? {} : { pad: 0 }),
    },
    backend: flags.backend,
    precision: flags.precision,
    seed: flags.seed,
    dataDir: flags.dataDir,
    verifyData: flags.verify,
    shardsDir: flags.shardsDir,
    budget: flags.budget,
    tta: flags.tta ?? defaults.tta,
    recalibrateBatches: flags.recalibrateBn,
  };
}
