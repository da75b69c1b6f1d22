/**
 * @file The recipe's options, shared by `train` and `bench datasets` so both read the same flags
 * the same way.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../core/errors.js';
import { recipeNames } from '../train/recipes.js';
import { precisionSettings, type PrecisionSetting } from '../train/precision.js';
import { fastRecipe, recipe, type AugmentMode, type RecipeSetting, type TrainSettings } from '../train/settings.js';
import { budgetMaxEpochs } from '../train/plan-run.js';
import { addAugmentOptions, augmentFromFlags, wholeNumber, type AugmentFlags } from './augment-options.js';
import { addDataOptions, type DataFlags } from './data-options.js';
import { nonNegativeNumber, positiveInt } from './options.js';

export interface RecipeFlags extends AugmentFlags, DataFlags {
  recipe: RecipeSetting;
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
  maxMemory?: number;
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

/**
 * `train` and `bench explain` let the recipe be chosen (`auto`, their default); the seed's table
 * (`bench datasets`) reproduces the article's, so its recipe is named, the DAWNBench one by default.
 */
export function addRecipeOptions(command: Command, recipeChoice: 'auto' | 'named' = 'named'): Command {
  const recipeOption = recipeChoice === 'auto'
    ? new Option('--recipe <name>', 'auto: the fast recipe where the images allow (at least 16x16, no --cutout), else dawnbench; train under --budget weighs both by the grid of measured runs; dawnbench: ResNet-9 as the article trains it; fast: the airbench network, about 8x fewer FLOPs (README, "Recipes")').choices(['auto', ...recipeNames]).default('auto')
    : new Option('--recipe <name>', 'dawnbench: ResNet-9 as the article trains it; fast: the airbench network, about 8x fewer FLOPs (README, "Recipes")').choices(recipeNames).default(recipe.recipe);
  return addDataOptions(addAugmentOptions(command))
    .addOption(recipeOption)
    .option('--epochs <n>', `epochs (${byRecipe((r) => r.epochs)}; with --budget: the most the planner may choose, by default ${budgetMaxEpochs.dawnbench} and ${budgetMaxEpochs.fast} for fast)`, positiveInt('--epochs'))
    .option('--batch-size <n>', `images per step (${byRecipe((r) => r.batchSize)})`, positiveInt('--batch-size'))
    .option('--width <n>', `network width: ResNet-9's base width, the airbench network's first group (default ${recipe.width}; with --budget, chosen by the planner unless given)`, positiveInt('--width'))
    .option('--lr <rate>', `peak of the learning rate (${byRecipe((r) => +r.lr.toFixed(4))})`, positiveNumber('--lr'))
    .option('--label-smoothing <s>', `label smoothing of the cross-entropy (${byRecipe((r) => r.labelSmoothing)})`, nonNegativeNumber('--label-smoothing'))
    .addOption(new Option('--augment <mode>', 'augmentation: precomputed TFRecords, online in workers, or none').choices(['precomputed', 'online', 'none']).default(recipe.augment))
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .addOption(new Option('--precision <p>', "the convolutions' precision: bf16 (operands in bfloat16, float32 accumulation, on AMX or AVX512-BF16), fp32, or auto: the faster here, measured (docs/precision.md)").choices(precisionSettings).default(recipe.precision))
    .option('--seed <n>', 'seed for initialisation, shuffling and augmentation', nonNegativeNumber('--seed'), recipe.seed)
    .option('--shards-dir <dir>', 'where precomputed TFRecord shards go (default ~/.cache/kilosecond/precomputed)')
    .option('--budget <seconds>', 'fit the whole run in this many seconds: measure, choose the recipe (with --recipe auto), width and epochs, and re-plan if the machine slows', positiveNumber('--budget'))
    .option('--max-memory <GB>', "the most memory the run may hold (default: what this machine has free); on the cpu backend a step that would need more trains a smaller batch, or the run is refused before training", positiveNumber('--max-memory'))
    .option('--tta', 'test-time augmentation at the final evaluation: mirror images (dawnbench), mirror and 1-pixel shifts (fast, where it is on by default); only the views training used (no mirror with --no-flip)')
    .option('--no-tta', 'no test-time augmentation')
    .option('--recalibrate-bn <batches>', 're-estimate batch-norm statistics over this many un-augmented training batches before the final evaluation (0: off)', wholeNumber('--recalibrate-bn', 1000), recipe.recalibrateBatches);
}

/**
 * The settings the flags give. What was not given is left out, for the recipe that runs to fill
 * in (resolveSettings): with 'auto' that recipe is not known until the planner has chosen.
 */
export function configFromFlags(flags: RecipeFlags): Omit<TrainSettings, 'dataset' | 'out'> {
  if (flags.recipe === 'fast') {
    const given = notInFast.filter(([field]) => flags[field] !== undefined).map(([, flag]) => flag);
    if (given.length > 0) throw new UserError(`${given.join(' and ')}: the fast recipe has no cutout (it augments by 2-pixel translation and alternating flips); drop ${given.length > 1 ? 'them' : 'it'}, or use --recipe dawnbench`);
  }
  const given = {
    recipe: flags.recipe,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    width: flags.width,
    lr: flags.lr,
    labelSmoothing: flags.labelSmoothing,
    augment: flags.augment,
    augmentation: augmentFromFlags(flags),
    backend: flags.backend,
    precision: flags.precision,
    seed: flags.seed,
    dataDir: flags.dataDir,
    verifyData: flags.verify,
    shardsDir: flags.shardsDir,
    budget: flags.budget,
    maxMemoryGb: flags.maxMemory,
    tta: flags.tta,
    recalibrateBatches: flags.recalibrateBn,
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Omit<TrainSettings, 'dataset' | 'out'>;
}
