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
import { type BatchInMemory, type MemoryAvailable, type MemoryProbe, batchInMemory, notEnoughMemoryFor } from './memory-plan.js';
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

/** Bytes the backend holds, live and pooled: the CPU backend's pool keeps every buffer a step used, so after a step this is the step's peak. */
function heldBytes(backend: Backend): number {
  const { liveBytes, pooledBytes } = backend.memoryStats();
  return liveBytes + pooledBytes;
}

/**
 * Time a few training steps of a fresh model per width, plus one evaluation batch, at a quarter
 * of the config's batch size (calibrationBatch), on the run's clock (milliseconds); the step
 * times returned are for the config's batch. Each width's memory is measured from an emptied
 * pool: what the model and its optimiser hold, and what the first step adds per image (its
 * gradients and momenta counted with the images: an overestimate by a few times the
 * parameters' bytes, 80 MB for ResNet-9 at width 64). On a backend that pools nothing (the
 * reference) the step's buffers are gone by then: its memory is not planned.
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
      await backend.sync();
      backend.trim();
      const base = heldBytes(backend);
      const model = createNetwork(backend, { architecture: recipes[config.recipe].architecture, inChannels: info.channels, classes: info.classes.length, width }, config.seed);
      const optimiser = recipes[config.recipe].optimiser(model, config);
      const fixedBytes = heldBytes(backend) - base;
      try {
        const timeOf = async (f: () => void): Promise<number> => {
          const start = now();
          f();
          await backend.sync();
          return since(start);
        };
        const step = (): void => trainStep(model, optimiser, { images, labels }, 0, 0);
        await timeOf(step); // warm-up: first-use allocations, kernel compilation
        const memory = { fixedBytes, bytesPerImage: Math.max(0, heldBytes(backend) - base - fixedBytes) / batch };
        const stepSeconds = Math.min(await timeOf(step), await timeOf(step));
        const evalSeconds = await timeOf(() => evalBatch(model, { images, labels }, metrics));
        out.push({ width, stepSeconds: (stepSeconds * config.batchSize) / batch, evalImagesPerSecond: batch / evalSeconds, memory });
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

/**
 * The most epochs a budget may buy a recipe when `epochs` is not given: the DAWNBench recipe's 25,
 * and the fast recipe's 10 stretched to 40, as long as the airbench repository's scaled variant
 * for 96% trains. A cap of 20 ended the README job (Fashion-MNIST, 1000 s) after 825 s: the
 * budget bought epochs the cap refused.
 */
export const budgetMaxEpochs: Record<RecipeName, number> = { dawnbench: 25, fast: 40 };

export interface PlannedRun {
  recipe: RecipeName;
  width: number;
  epochs: number;
  /** Images per step: the recipe's, or fewer where this machine's memory holds no more (`memoryReason`). */
  batchSize: number;
  memoryReason?: string;
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
  /** How much memory the run may take; absent, memory is not planned (a GPU's, a browser's). */
  memory?: MemoryProbe;
  onPhase?(phase: string): void;
}

/**
 * Bytes the run may still take once the measurements are done: what the probe says, plus what
 * the backend's pool holds from them (training reuses those buffers, or they are freed when the
 * pool is trimmed after planning).
 */
async function memoryAvailable(backend: Backend, probe: MemoryProbe): Promise<MemoryAvailable> {
  await backend.sync();
  const { bytes, source } = probe.available();
  return { bytes: Math.max(0, bytes + backend.memoryStats().pooledBytes), source };
}

/**
 * Without a budget: the fast recipe where it may run (the grid's evidence in the reason), else
 * the DAWNBench one; its batch lowered where one step of it, measured, needs more memory than
 * there is.
 */
async function choiceWithoutBudget(backend: Backend, input: PlanInput): Promise<PlannedRun> {
  const [first] = input.candidates.recipes;
  const config = input.configs[first!]!;
  const { batchSize, reason: memoryReason } = input.memory ? await batchForMemory(backend, input, first!, config, input.memory) : { batchSize: config.batchSize, reason: undefined };
  const run = { recipe: first!, width: config.width!, epochs: config.epochs, batchSize, measurements: [], ...(memoryReason ? { memoryReason } : {}) };
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

/** One step of the run's network measured, and the batch that fits the memory available (refused when none does). */
async function batchForMemory(backend: Backend, input: PlanInput, recipe: RecipeName, config: RunConfig, probe: MemoryProbe): Promise<BatchInMemory> {
  input.onPhase?.('measuring the memory a training step needs');
  const [m] = await measureWidths(backend, input.info, config, [config.width!], input.now);
  const available = await memoryAvailable(backend, probe);
  const fitted = batchInMemory(m!, config.batchSize, available);
  if (!fitted) throw notEnoughMemoryFor([{ recipe, batchSize: config.batchSize, measurement: m! }], available);
  return fitted;
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
  if (budget === undefined) return choiceWithoutBudget(backend, input);
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
  const measurements = candidates.map((c) => ({ ...c.measurement, recipe: c.recipe }));
  const { fitting, reasons } = await candidatesInMemory(backend, candidates, input.memory);
  const planInput = budgetInput();
  const plan = planBudget(fitting, planInput, dataset);
  if (!plan) {
    const smallest = Math.ceil(smallestBudget(fitting, planInput));
    throw new UserError(msg`a budget of ${budget} s cannot fit one epoch here: the smallest that can is ${smallest} s (one epoch of the quickest plan, with this run's ${Math.round(planInput.elapsedSeconds)} s of loading and measuring). Raise ${setting('budget')} to at least ${smallest}, or use ${setting('backend', 'webgpu')} on a GPU.`);
  }
  const recipeReason = input.candidates.reason ? `the DAWNBench recipe: ${input.candidates.reason}` : undefined;
  const chosen = fitting.find((c) => c.recipe === plan.recipe && c.measurement.width === plan.width)!;
  const memoryReason = reasons.get(chosen);
  return {
    recipe: plan.recipe, width: plan.width, epochs: plan.epochs, batchSize: chosen.costs.batchSize, plan, measurements,
    ...(recipeReason ? { recipeReason } : {}), ...(memoryReason ? { memoryReason } : {}),
  };
}

/**
 * The candidates as the memory available lets them train: each at the largest batch that fits
 * (its step time scaled with the batch: per image, the quarter batch it was timed at), those
 * that fit at none left out; refused when none is left.
 */
async function candidatesInMemory(backend: Backend, candidates: readonly Candidate[], probe: MemoryProbe | undefined): Promise<{ fitting: Candidate[]; reasons: Map<Candidate, string> }> {
  const reasons = new Map<Candidate, string>();
  if (!probe) return { fitting: [...candidates], reasons };
  const available = await memoryAvailable(backend, probe);
  const fitting = candidates.flatMap((c) => {
    const fitted = batchInMemory(c.measurement, c.costs.batchSize, available);
    if (!fitted) return [];
    if (fitted.batchSize === c.costs.batchSize) return [c];
    const lowered: Candidate = {
      ...c,
      costs: { ...c.costs, batchSize: fitted.batchSize },
      measurement: { ...c.measurement, stepSeconds: (c.measurement.stepSeconds * fitted.batchSize) / c.costs.batchSize },
    };
    reasons.set(lowered, fitted.reason!);
    return [lowered];
  });
  if (fitting.length === 0) throw notEnoughMemoryFor(candidates.map((c) => ({ recipe: c.recipe, batchSize: c.costs.batchSize, measurement: c.measurement })), available);
  return { fitting, reasons };
}
