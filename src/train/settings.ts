/**
 * @file A run's settings: the configuration a run trains with (`TrainConfig`, every field
 * decided), the recipes' defaults (the one place they are written), and what a caller may leave
 * open (`TrainSettings`): the recipe itself ('auto': the planner's choice), and any recipe
 * setting, which then comes from the recipe that runs.
 */
import type { AugmentSettings } from '../data/augment.js';
import { defaultAugment } from '../data/augment.js';
import type { FolderSettings } from '../data/folder/split.js';
import type { PrecisionSetting } from './precision.js';
import { type RecipeName, fastRate, fastWeightDecay } from './recipes.js';

export type AugmentMode = 'precomputed' | 'online' | 'none';

export interface TrainConfig {
  /** A built-in dataset's name, or the path of a folder of images. */
  dataset: string;
  /** How to train: the network, the rate's shape and what happens around the steps (recipes.ts). */
  recipe: RecipeName;
  /** How an image folder is split, sized and decoded (ignored for the built-in datasets). */
  folder?: FolderSettings;
  epochs: number;
  batchSize: number;
  /** Base width; undefined lets the budget planner choose (the recipe's without a budget). */
  width?: number;
  lr: number;
  peakEpoch: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  labelSmoothing: number;
  augment: AugmentMode;
  /** The pad mode, padding, cutout side and flip, when not given, are the dataset's (DatasetInfo.padMode, augmentSides, flip). */
  augmentation: AugmentSettings;
  backend: string;
  /** The convolutions' precision (docs/precision.md); 'auto' (the default) measures which trains faster here. */
  precision?: PrecisionSetting;
  seed: number;
  dataDir?: string;
  /** Check the dataset files' md5s and image counts (default true). */
  verifyData?: boolean;
  /** Go on with the run in `out` from its last finished epoch (train-state.safetensors); the settings must be the run's. */
  resume?: boolean;
  /** Train into an `out` that already holds a model, replacing the run's files (never others). */
  overwrite?: boolean;
  /** Where precomputed shards go (default: the user cache, so runs reuse them). */
  shardsDir?: string;
  out: string;
  /** Seconds for the whole run; undefined trains `epochs` epochs whatever it takes. */
  budget?: number;
  /**
   * The most resident memory the run may hold, in GB; undefined: what this machine has free. On
   * the CPU backend the planner lowers the batch, or refuses before training, to stay inside
   * it (memory-plan.ts).
   */
  maxMemoryGb?: number;
  /** At the final evaluation, the recipe's test-time augmentation (tta.ts): mirror images, and for the fast recipe shifted ones. */
  tta: boolean;
  /** Test images per evaluation batch. */
  evalBatchSize: number;
  /**
   * Before the final evaluation, re-estimate the batch-norm statistics over this many batches of
   * un-augmented training images (0: keep the running averages training left). Off in the recipe:
   * with the one-cycle schedule it cost 0.13-0.18 points in paired runs (BENCHMARKS.md).
   */
  recalibrateBatches: number;
}

/**
 * The DAWNBench recipe (DESIGN.md §1): every default of a run, here only. The command line's
 * defaults and help are read from it, and so are the benches'.
 */
export const recipe: RecipeDefaults = {
  recipe: 'dawnbench',
  epochs: 25,
  batchSize: 512,
  width: 64,
  lr: 0.4,
  peakEpoch: 5,
  momentum: 0.9,
  weightDecay: 5e-4,
  nesterov: true,
  labelSmoothing: 0.2,
  augment: 'precomputed',
  // Pad mode, padding, cutout and flip left to the dataset (augmentFor), as the command line leaves them.
  augmentation: { crop: defaultAugment.crop, cutoutCount: defaultAugment.cutoutCount },
  backend: 'cpu',
  precision: 'auto',
  seed: 0,
  tta: false,
  evalBatchSize: 1000,
  recalibrateBatches: 0,
};

export type RecipeDefaults = Omit<TrainConfig, 'dataset' | 'out'> & { width: number };

/**
 * The fast recipe's defaults (recipes.ts): airbench94's published settings, but 10 whole epochs
 * where airbench trains 9.9 (our epochs are whole).
 */
export const fastRecipe: RecipeDefaults = {
  ...recipe,
  recipe: 'fast',
  epochs: 10,
  batchSize: 1024,
  width: 64,
  lr: fastRate,
  momentum: 0.85,
  weightDecay: fastWeightDecay,
  labelSmoothing: 0.2,
  // Translation by up to 2 pixels (the pad mode is the dataset's: reflect for CIFAR-10, as airbench).
  // The flip, alternating where the dataset flips at all, is the dataset's.
  augmentation: { crop: true, pad: 2, alternateFlip: true, cutout: 0, cutoutCount: 0 },
  tta: true,
};

export const recipeDefaults: Record<RecipeName, RecipeDefaults> = { dawnbench: recipe, fast: fastRecipe };

/** `TrainSettings.recipe`: a recipe by name, or 'auto' for the planner's choice (planner.ts). */
export type RecipeSetting = RecipeName | 'auto';

/**
 * What a caller of `train` gives: the dataset and the run folder, and any other setting. A
 * setting left out is the recipe's (the one named, or the one the planner chooses for 'auto',
 * the default); so is each augmentation field left out of `augmentation`. Under a budget a width
 * left out is the planner's.
 */
export type TrainSettings = Partial<Omit<RecipeDefaults, 'recipe' | 'augmentation'>> & Omit<TrainConfig, keyof RecipeDefaults> & {
  recipe?: RecipeSetting;
  augmentation?: Partial<AugmentSettings>;
};

/** The fields of `o` that are not undefined. */
function definedFields<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The configuration `settings` train with under recipe `name`: every field left open taken from it. */
export function resolveSettings(settings: TrainSettings, name: RecipeName): TrainConfig {
  const defaults = recipeDefaults[name];
  return {
    ...defaults,
    ...definedFields(settings),
    dataset: settings.dataset,
    out: settings.out,
    recipe: name,
    augmentation: { ...defaults.augmentation, ...definedFields(settings.augmentation ?? {}) },
    width: settings.width ?? (settings.budget === undefined ? defaults.width : undefined),
  };
}

/** The recipe settings a caller gave (not left to the recipe): the fast recipe refuses those it has no use for. */
export function givenDawnbenchOnly(settings: TrainSettings): string[] {
  const a = settings.augmentation ?? {};
  return [
    ...(a.cutout !== undefined && a.cutout > 0 ? ['cutout'] : []),
    ...(a.cutoutCount !== undefined && a.cutoutCount > 0 ? ['cutoutCount'] : []),
    ...(settings.peakEpoch !== undefined ? ['peakEpoch'] : []),
  ];
}
