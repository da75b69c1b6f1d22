/**
 * @file Deciding what a run trains before it trains: which recipes may run on these images, the
 * step times of each candidate measured on this machine, and the plan, the budget planner's
 * (budget.ts) under a budget, the grid's preferred recipe without one.
 */
import type { Backend } from '../core/backend.js';
import { msg, setting, UserError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { AugmentConfig } from '../data/augment.js';
import type { DatasetInfo } from '../data/datasets.js';
import { minInputSide } from '../nn/airbench.js';
import { createNetwork } from '../nn/create-network.js';
import { type BudgetInput, type BudgetPlan, type Candidate, type StepMeasurement, epochsThatFit, planBudget, smallestBudget } from './budget.js';
import { type GridPoint, expectedAccuracy, gridDatasetFor } from './grid.js';
import { type RecipeName, recipes } from './recipes.js';
import { type TrainConfig, type TrainSettings, givenDawnbenchOnly, recipeDefaults } from './settings.js';
import { DeviceMetrics, evalBatch, trainStep } from './step.js';
import { trainedViews, ttaFor, viewsOf } from './tta.js';

/** A run's configuration with what the dataset decides filled in. */
export type RunConfig = TrainConfig & { augmentation: AugmentConfig };

/** The recipes a run may train, best-known first, and why any is left out. */
export function recipeCandidates(settings: TrainSettings, info: DatasetInfo): { recipes: RecipeName[]; reason?: string } {
  if (settings.recipe !== undefined && settings.recipe !== 'auto') return { recipes: [settings.recipe] };
  const side = Math.min(info.height, info.width);
  if (side < minInputSide) return { recipes: ['dawnbench'], reason: `${side}x${side} images are too small for the fast recipe's network (at least ${minInputSide}x${minInputSide})` };
  const dawnbenchOnly = givenDawnbenchOnly(settings);
  if (dawnbenchOnly.length > 0) return { recipes: ['dawnbench'], reason: `the fast recipe has no use for ${dawnbenchOnly.join(' or ')}, which were given` };
  return { recipes: ['fast', 'dawnbench'] };
}

/** Widths the planner may choose from when `width` is not given: the recipe's, and narrower. */
function candidateWidths(config: RunConfig): number[] {
  const w = recipeDefaults[config.recipe].width;
  return config.width ? [config.width] : [w, w / 2, w / 4];
}

/**
 * The batch steps are timed at: a quarter of the run's. Per image it runs 6-10% slower than the
 * full batch (BENCHMARKS.md, "The planner"), about the loader's share of a real step, and it
 * holds a quarter of the memory: timing every candidate at full batch (two precisions, three
 * widths, two recipes) took the resident memory to 3.7 GB before training began.
 */
export function calibrationBatch(batchSize: number): number {
  return Math.max(1, Math.ceil(batchSize / 4));
}

/**
 * Time a few training steps of a fresh model per width, plus one evaluation batch, at a quarter
 * of the config's batch size (calibrationBatch), on the run's clock (milliseconds); the step
 * times returned are for the config's batch.
 */
export async function measureWidths(backend: Backend, info: DatasetInfo, config: TrainConfig, widths: number[], now: () => number): Promise<StepMeasurement[]> {
  const since = (start: number): number => (now() - start) / 1000;
  const batch = calibrationBatch(config.batchSize);
  const out: StepMeasurement[] = [];
  const images = Tensor.fromArray(backend, [batch, info.height, info.width, info.channels],
    new Float32Array(batch * info.height * info.width * info.channels).map((_, i) => Math.sin(i)));
  const labels = Tensor.fromArray(backend, [batch], Float32Array.from({ length: batch }, (_, i) => i % info.classes.length));
  const metrics = new DeviceMetrics(backend);
  try {
    for (const width of widths) {
      const model = createNetwork(backend, { architecture: recipes[config.recipe].architecture, inChannels: info.channels, classes: info.classes.length, width }, config.seed);
      const optimiser = recipes[config.recipe].optimiser(model, config);
      try {
        const timeOf = async (f: () => void): Promise<number> => {
          const start = now();
          f();
          await backend.sync();
          return since(start);
        };
        const step = (): void => trainStep(model, optimiser, { images, labels }, 0, 0);
        await timeOf(step); // warm-up: first-use allocations, kernel compilation
        const stepSeconds = Math.min(await timeOf(step), await timeOf(step));
        const evalSeconds = await timeOf(() => evalBatch(model, { images, labels }, metrics));
        out.push({ width, stepSeconds: (stepSeconds * config.batchSize) / batch, evalImagesPerSecond: batch / evalSeconds });
      } finally {
        optimiser.dispose();
        model.dispose();
      }
    }
  } finally {
    metrics.dispose();
    images.dispose();
    labels.dispose();
  }
  return out;
}

/** The most epochs a budget may buy a recipe when `epochs` is not given: the fast recipe's stretched to twice its 10 (airbench95 trains 15). */
export const budgetMaxEpochs: Record<RecipeName, number> = { dawnbench: 25, fast: 20 };

export interface PlannedRun {
  recipe: RecipeName;
  width: number;
  epochs: number;
  plan?: BudgetPlan;
  /** Why this recipe, when it was the run's to choose. */
  recipeReason?: string;
  measurements: Array<StepMeasurement & { recipe: RecipeName }>;
}

export interface PlanInput {
  settings: TrainSettings;
  /** Each candidate recipe's configuration, in `candidates` order (best-known first). */
  configs: Partial<Record<RecipeName, RunConfig>>;
  candidates: { recipes: RecipeName[]; reason?: string };
  info: DatasetInfo;
  trainCount: number;
  testCount: number;
  /** Seconds the run has spent so far. */
  elapsedSeconds: () => number;
  /** The run's clock, in milliseconds. */
  now: () => number;
  onPhase?(phase: string): void;
}

/** Without a budget: the fast recipe where it may run (the grid's evidence in the reason), else the DAWNBench one. */
function choiceWithoutBudget(input: PlanInput): PlannedRun {
  const [first] = input.candidates.recipes;
  const config = input.configs[first!]!;
  const run = { recipe: first!, width: config.width!, epochs: config.epochs, measurements: [] };
  if (input.settings.recipe !== undefined && input.settings.recipe !== 'auto') return run;
  const dataset = gridDatasetFor(input.info);
  const expect = (r: RecipeName): string => {
    const c = input.configs[r];
    const e = c && expectedAccuracy(dataset, r, c.width!, c.epochs);
    return e ? `${r} width ${c.width} x ${c.epochs} epochs: ${(100 * e.accuracy).toFixed(2)}% expected` : '';
  };
  const reason = first === 'fast'
    ? `the fast recipe: on every dataset of the grid it comes within a few tenths of the DAWNBench recipe's accuracy in a fraction of its time (${dataset}: ${expect('fast')}; ${expect('dawnbench')} at about 6x the time: 721 s against about 4,200 s on CIFAR-10 here); under a budget the planner weighs both, and naming the DAWNBench recipe runs the article's`
    : `the DAWNBench recipe: ${input.candidates.reason}`;
  return { ...run, recipeReason: reason };
}

/**
 * Whether `recipe` at `width` could beat `best`, the best plan among the candidates measured so far
 * (the fast recipe's, measured first): its best case is as many epochs as the fast recipe
 * affords at the same width (a ResNet-9 epoch costs about 3x an airbench one: 2.8 against 0.35
 * PFLOP per CIFAR-10 run of 25 and 10 epochs), up to its own maximum. Measuring a width that
 * cannot win costs seconds of the budget and a step's worth of memory (2.5 GB for ResNet-9 at
 * width 64).
 */
function worthMeasuring(
  recipe: RecipeName, width: number, maxEpochs: number, measured: readonly Candidate[], best: BudgetPlan | undefined, input: BudgetInput, dataset: GridPoint['dataset'],
): boolean {
  const sameWidth = measured.find((c) => c.measurement.width === width);
  if (!sameWidth || !best?.expectedAccuracy) return true;
  const bestCase = expectedAccuracy(dataset, recipe, width, Math.max(1, Math.min(maxEpochs, epochsThatFit(sameWidth, input))));
  return bestCase === undefined || bestCase.accuracy > best.expectedAccuracy;
}

/** The plan of a new run: under a budget, the planner's choice among measured candidates. */
export async function planRun(backend: Backend, input: PlanInput): Promise<PlannedRun> {
  const budget = input.settings.budget;
  if (budget === undefined) return choiceWithoutBudget(input);
  input.onPhase?.('measuring this machine for the budget');
  // Held back for the checkpoint, charts and report: 15 s, or 5% of a budget under 300 s.
  const reserveSeconds = Math.min(15, 0.05 * budget);
  const budgetInput = () => ({ budgetSeconds: budget, elapsedSeconds: input.elapsedSeconds(), trainCount: input.trainCount, testCount: input.testCount, reserveSeconds });
  const dataset = gridDatasetFor(input.info);
  const candidates: Candidate[] = [];
  for (const recipe of input.candidates.recipes) {
    const config = input.configs[recipe]!;
    const costs = {
      batchSize: config.batchSize,
      maxEpochs: input.settings.epochs ?? budgetMaxEpochs[recipe],
      minEpochs: Math.min(4, input.settings.epochs ?? 4),
      // Precomputing, budgeted at 20,000 images/s (below what BENCHMARKS.md, "Data pipeline
      // (issue 3)", measured on two cores), is a small share of an epoch, but counted.
      prepareSecondsPerEpoch: config.augment === 'precomputed' ? input.trainCount / 20000 : 0,
      // Beyond the last epoch's own pass: test-time augmentation's other views (all but one), and the confusion matrix's pass.
      finalTestPasses: viewsOf(ttaFor(recipes[recipe].architecture, config.tta, trainedViews(config))).length,
    };
    const budgetNow = budgetInput();
    // The best plan among the candidates measured so far: a width that cannot beat it is not measured.
    const best = planBudget(candidates, budgetNow, dataset);
    const widths = candidateWidths(config).filter((w) => worthMeasuring(recipe, w, costs.maxEpochs, candidates, best, budgetNow, dataset));
    const measured = await measureWidths(backend, input.info, config, widths, input.now);
    candidates.push(...measured.map((measurement) => ({ recipe, costs, measurement })));
  }
  const planInput = budgetInput();
  const plan = planBudget(candidates, planInput, dataset);
  const measurements = candidates.map((c) => ({ ...c.measurement, recipe: c.recipe }));
  if (!plan) {
    const smallest = Math.ceil(smallestBudget(candidates, planInput));
    throw new UserError(msg`a budget of ${budget} s cannot fit one epoch here: the smallest that can is ${smallest} s (one epoch of the quickest plan, with this run's ${Math.round(planInput.elapsedSeconds)} s of loading and measuring). Raise ${setting('budget')} to at least ${smallest}, or use ${setting('backend', 'webgpu')} on a GPU.`);
  }
  const recipeReason = input.candidates.reason ? `the DAWNBench recipe: ${input.candidates.reason}` : undefined;
  return { recipe: plan.recipe, width: plan.width, epochs: plan.epochs, plan, measurements, ...(recipeReason ? { recipeReason } : {}) };
}
