/**
 * @file A recipe's run on `fit`: the settings a dataset decides, what `fit` needs from a recipe
 * (schedule, session, the final evaluation's test-time augmentation and re-calibration) and from a
 * budget's plan, and what the checkpoint records. `train` uses these pieces with its loader,
 * recorder and resume; `trainInMemory` trains images already in memory with the budget planner
 * and writes nothing (the web page's training worker runs it). Nothing here needs Node.
 */
import type { Backend } from '../core/backend.js';
import type { Precision } from '../core/precision.js';
import { augmentFor, validateAugment } from '../data/augment.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { inMemoryBatches } from '../data/online-source.js';
import { createNetwork } from '../nn/create-network.js';
import type { Network } from '../nn/network.js';
import type { Sgd } from '../optim/sgd.js';
import type { BudgetPlan, StepMeasurement } from './budget.js';
import type { CheckpointMeta } from './checkpoint-format.js';
import { type FitHooks, type FitOptions, type FitResult, fit } from './fit.js';
import { type PlannedRun, type RunConfig, planRun, recipeCandidates } from './plan-run.js';
import { type RecipeName, recipes } from './recipes.js';
import { type TrainConfig, type TrainSettings, resolveSettings } from './settings.js';
import { trainedViews, ttaFor } from './tta.js';

/** Fewer steps than this per epoch and the one-cycle schedule has nothing to shape. */
export const minStepsPerEpoch = 4;

/**
 * The batch size for a training set: as asked, unless the set is too small for it (in-house
 * data often is); then the largest power of two that still makes `minStepsPerEpoch` steps.
 */
export function batchSizeFor(asked: number, trainCount: number): number {
  if (trainCount >= minStepsPerEpoch * asked) return asked;
  return Math.max(1, 2 ** Math.floor(Math.log2(Math.max(1, trainCount / minStepsPerEpoch))));
}

/**
 * The settings as a run on these images trains with them: what the dataset decides filled in,
 * the batch capped to its training set, and then the rate scaled by the square root of the
 * batch's shrinking. The recipes' rates are for a mean loss over their batch (the fast recipe's
 * 1.5 over 1024 images): on a folder of 64 images, at batch 16, it diverged (4 colour classes,
 * 6 seeds: 25-78% test accuracy, against 97-100% at a rate of 0.265; linear scaling, 0.023,
 * learned too slowly to reach 50% in 2 epochs).
 */
export function runConfigFor(settings: TrainConfig, info: DatasetInfo, trainCount: number): RunConfig {
  return scaledToBatch({ ...settings, augmentation: augmentFor(settings.augmentation, info) }, batchSizeFor(settings.batchSize, trainCount));
}

/**
 * `config` at a batch no larger than its own: the rate scaled by the square root of the
 * shrinking (runConfigFor says why), evaluation batches no larger than training's (the memory
 * planner lowers the batch when a step would not fit: memory-plan.ts).
 */
export function scaledToBatch<C extends TrainConfig>(config: C, batchSize: number): C {
  if (batchSize >= config.batchSize) return config;
  return { ...config, batchSize, lr: config.lr * Math.sqrt(batchSize / config.batchSize), evalBatchSize: Math.min(config.evalBatchSize, batchSize) };
}

/**
 * Each candidate recipe's configuration for a run on these images (runConfigFor), its augmentation
 * checked against the image size; a batch capped to a small training set is said through `onPhase`.
 */
export function candidateConfigs(
  settings: TrainSettings, candidates: readonly RecipeName[], info: DatasetInfo, trainCount: number, onPhase?: (phase: string) => void,
): Partial<Record<RecipeName, RunConfig>> {
  const configs: Partial<Record<RecipeName, RunConfig>> = {};
  for (const r of candidates) {
    const asked = resolveSettings(settings, r);
    const config = runConfigFor(asked, info, trainCount);
    if (config.batchSize < asked.batchSize) {
      onPhase?.(`batch size ${config.batchSize} instead of ${asked.batchSize}: ${trainCount} training images make at least ${minStepsPerEpoch} steps per epoch; the rate scaled by the square root of that, to ${config.lr.toPrecision(3)}`);
    }
    validateAugment(config.augmentation, info.height, info.width);
    configs[r] = config;
  }
  return configs;
}

/** The run's shape as `fit` takes it, and whether it goes on from a saved epoch. */
export interface RecipeRunShape {
  train: ImageSet;
  test: ImageSet;
  info: DatasetInfo;
  epochs: number;
  stepsPerEpoch: number;
  /** Going on from a saved epoch: the session does not set up from the data again (its state is restored). */
  resumed: boolean;
}

/** `fit`'s options for `config`'s recipe, all but the batches: its schedule and session, the final evaluation as the recipe makes it. */
export function recipeFitOptions(config: RunConfig, model: Network, optimiser: Sgd, run: RecipeRunShape): Omit<FitOptions, 'batches'> {
  const chosen = recipes[config.recipe];
  const { train, test, info, epochs, stepsPerEpoch } = run;
  return {
    model, optimiser, info, test, epochs, stepsPerEpoch,
    schedule: chosen.schedule({ peak: config.lr, peakEpoch: config.peakEpoch, epochs, stepsPerEpoch }),
    session: chosen.start(model, optimiser, { train, info, totalSteps: epochs * stepsPerEpoch, resumed: run.resumed }),
    labelSmoothing: config.labelSmoothing,
    evalBatchSize: config.evalBatchSize,
    finalTta: ttaFor(model.config.architecture, config.tta, trainedViews(config)),
    recalibrate: { set: train, batches: config.recalibrateBatches, batchSize: config.batchSize },
  };
}

/**
 * `fit`'s options for a budget's plan: its steps and re-plans, and the budget watched from
 * `runStart` (not when `watch` is false: a resumed run keeps its plan, but the budget was its
 * first session's).
 */
export function planFitOptions(plan: BudgetPlan | undefined, budgetSeconds: number | undefined, runStart: number, watch: boolean): Pick<FitOptions, 'plannedSteps' | 'replans' | 'budget'> {
  if (!plan) return {};
  return {
    plannedSteps: plan.steps,
    // The plan's own array: the re-plans made while training are recorded in it.
    replans: plan.replans,
    ...(watch && budgetSeconds !== undefined ? { budget: { seconds: budgetSeconds, runStart, evalSecondsPerEpoch: plan.evalSecondsPerEpoch, finalSeconds: plan.finalSeconds } } : {}),
  };
}

/** What a checkpoint of a run records besides the weights (checkpoint.ts); `resize` for images decoded from files. */
export function runCheckpointMeta(
  info: DatasetInfo, run: { config: RunConfig; width: number; epochs: number; trainedEpochs: number; precision: Precision; resize?: 'crop' | 'stretch' },
): Omit<CheckpointMeta, 'architecture'> {
  return {
    dataset: info.name,
    classes: info.classes,
    inChannels: info.channels,
    width: run.width,
    mean: info.mean,
    std: info.std,
    inputSize: [info.height, info.width],
    ...(run.resize ? { resize: run.resize } : {}),
    config: { ...run.config, precision: run.precision, width: run.width, epochs: run.epochs, trainedEpochs: run.trainedEpochs },
  };
}

export interface InMemoryHooks extends FitHooks {
  onPhase?(phase: string): void;
  /** The plan (the recipe, width and epochs; under a budget the planner's reasons and measurements) and the settings it trains with. */
  onPlan?(planned: PlannedRun, config: RunConfig): void;
}

export interface InMemoryRun {
  /** The trained network: the caller disposes it. */
  model: Network;
  config: RunConfig;
  width: number;
  epochs: number;
  plan?: BudgetPlan;
  measurements: Array<StepMeasurement & { recipe: RecipeName }>;
  result: FitResult;
}

/**
 * Trains images in memory as `train` trains a dataset, without a file: the recipe (`auto`: the
 * fast one where the images allow), under a budget the planner's width and steps, measured on
 * `backend`, and the budget kept while training. No resume, no precomputed shards: batches are
 * augmented as they are needed.
 */
export async function trainInMemory(
  o: { backend: Backend; settings: TrainSettings; info: DatasetInfo; train: ImageSet; test: ImageSet; now?: () => number }, hooks: InMemoryHooks = {},
): Promise<InMemoryRun> {
  const { backend, settings, info, train, test } = o;
  const now = o.now ?? (() => performance.now());
  const runStart = now();
  const candidates = recipeCandidates(settings, info);
  const configs = candidateConfigs(settings, candidates.recipes, info, train.count, hooks.onPhase);
  const planned = await planRun(backend, {
    settings, configs, candidates, info, trainCount: train.count, testCount: test.count,
    elapsedSeconds: () => (now() - runStart) / 1000, now, ...(hooks.onPhase ? { onPhase: hooks.onPhase } : {}),
  });
  await backend.sync();
  backend.trim();
  const config = scaledToBatch(configs[planned.recipe]!, planned.batchSize);
  hooks.onPlan?.(planned, config);
  const { width, epochs, plan } = planned;
  const model = createNetwork(backend, { architecture: recipes[config.recipe].architecture, inChannels: info.channels, classes: info.classes.length, width }, config.seed);
  const optimiser = recipes[config.recipe].optimiser(model, config);
  try {
    const stepsPerEpoch = Math.floor(train.count / config.batchSize);
    const result = await fit({
      ...recipeFitOptions(config, model, optimiser, { train, test, info, epochs, stepsPerEpoch, resumed: false }),
      ...planFitOptions(plan, config.budget, runStart, true),
      now,
      batches: inMemoryBatches(train, info, { batchSize: config.batchSize, augment: config.augmentation, seed: config.seed }),
    }, hooks);
    return { model, config, width, epochs, ...(plan ? { plan } : {}), measurements: planned.measurements, result };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimiser.dispose();
  }
}
