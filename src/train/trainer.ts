/**
 * @file The trainer: data in, a trained model and its history out.
 *
 * Phases, each timed: data preparation (load the dataset, precompute the augmented epochs when
 * asked), an optional budget calibration (a few timed steps per candidate width), training
 * (epochs of trainStep fed by the streaming loader, each followed by a pass over the test set),
 * and the run folder (checkpoint, metrics). Progress is reported through `TrainHooks`; the trainer
 * prints nothing and knows nothing of terminals.
 */
import { existsSync } from 'node:fs';
import { mkdir, appendFile, rm } from 'node:fs/promises';
import { readTrainProgress, restoreTrainState, saveTrainState, type TrainProgress } from './train-state.js';
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { Backend } from '../core/backend.js';
import { Message, msg, setting, UserError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { type BackendOptions, createBackend, cpuBf16Available } from '../backends/index.js';
import type { Precision } from '../core/precision.js';
import { type PrecisionChoice, type PrecisionSetting, choosePrecision } from './precision.js';
import { augmentFor, defaultAugment, validateAugment, type AugmentConfig, type AugmentSettings } from '../data/augment.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import type { FolderLoadOptions } from '../data/folder/load.js';
import { openDataset, type OpenedDataset } from '../data/open.js';
import { createTrainLoader, testBatches, type TrainLoader } from '../data/loader.js';
import { precompute } from '../data/precompute.js';
import { createNetwork } from '../nn/create-network.js';
import type { Network } from '../nn/network.js';
import type { Sgd } from '../optim/sgd.js';
import { type RecipeName, fastRate, fastWeightDecay, recipes } from './recipes.js';
import { trainedViews, ttaFor, viewsOf } from './tta.js';
import { type BudgetPlan, type StepMeasurement, planBudget } from './budget.js';
import { saveCheckpoint } from './checkpoint.js';
import { EventWriter } from './tensorboard.js';
import { type EnvironmentInfo, describeEnvironment, kilosecondVersion } from './environment.js';
import { writeFileAtomic } from '../core/atomic.js';
import { BatchUploader, confusionMatrix, evaluate, perClassAccuracy } from './evaluate.js';
import { DeviceMetrics, evalBatch, recalibrateBatchNorm, trainStep, type DeviceBatch } from './step.js';

export type AugmentMode = 'precomputed' | 'online' | 'none';

export interface TrainConfig {
  /** A built-in dataset's name, or the path of a folder of images. */
  dataset: string;
  /** How to train: the network, the rate's shape and what happens around the steps (recipes.ts). */
  recipe: RecipeName;
  /** How an image folder is split, sized and decoded (ignored for the built-in datasets). */
  folder?: Omit<FolderLoadOptions, 'onProgress'>;
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

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  /** Learning rate at the last step of the epoch. */
  lr: number;
  train_seconds: number;
  eval_seconds: number;
  images_per_second: number;
  /** Seconds the steps spent waiting for the loader. */
  data_wait_seconds: number;
  /** Batches the batch-norm statistics were re-estimated over before this evaluation (final epoch only). */
  bn_recalibration_batches?: number;
}

export interface TrainHooks {
  onPhase?(phase: string): void;
  onPlan?(plan: BudgetPlan, measurements: StepMeasurement[]): void;
  /** The precision the run trains in, and why. */
  onPrecision?(choice: PrecisionChoice): void;
  onStep?(epoch: number, step: number, steps: number, lr: number): void;
  /** Running training accuracy and loss of the epoch so far, read back a few times per epoch. */
  onRunningMetrics?(epoch: number, accuracy: number, loss: number): void;
  onEpoch?(record: EpochRecord, epochs: number): void;
  /** Reading and decoding an image folder. */
  onDataProgress?(stage: string, done: number, total: number): void;
  /** Polled between steps: true stops training after the current step (Ctrl-C). */
  shouldStop?(): boolean;
}

export interface TrainResult {
  environment: EnvironmentInfo;
  /** The configuration as run: the pad mode resolved. */
  config: TrainConfig & { augmentation: AugmentConfig };
  info: DatasetInfo;
  width: number;
  plannedEpochs: number;
  history: EpochRecord[];
  learningRates: number[];
  plan?: BudgetPlan;
  /** An image folder's layout, input settings and the files left out. */
  folder?: OpenedDataset['folder'];
  /** What the images came from (OpenedDataset's sources): a finished run is reused only on the same data. */
  sources: Record<string, string>;
  /** The final model's test predictions: counts[true class][predicted class] (without test-time augmentation). */
  confusion: number[][];
  interrupted: boolean;
  timings: { data_preparation: number; calibration: number; training: number; evaluation: number; total: number };
  testAccuracy: number;
  imagesPerSecond: number;
  backendName: string;
  /** The precision the run trained in, and why (docs/precision.md). */
  precision: PrecisionChoice;
  checkpoint: string;
  /** The test set, for reports that show images (Grad-CAM). */
  test: ImageSet;
  /**
   * The largest resident set size of the process while this run (or this session of a resumed
   * one) trained and evaluated, in MB: read after every step and evaluation, when the buffer
   * pool still holds the step's buffers.
   */
  peakRssMb: number;
}

/** The loader's `verify` is TrainConfig's `verifyData`: its errors are rethrown naming the field the caller set. */
function namingVerifyData(err: unknown): never {
  if (!(err instanceof UserError)) throw err;
  throw new UserError(new Message(err.parts.map((p) => (typeof p !== 'string' && p.field === 'verify' ? { ...p, field: 'verifyData' } : p))));
}

/** Seconds since `start` (a performance.now() value). */
const since = (start: number): number => (performance.now() - start) / 1000;

/** Fewer steps than this per epoch and the one-cycle schedule has nothing to shape. */
const minStepsPerEpoch = 4;

/**
 * The batch size for a training set: as asked, unless the set is too small for it (in-house
 * data often is); then the largest power of two that still makes `minStepsPerEpoch` steps.
 */
export function batchSizeFor(asked: number, trainCount: number): number {
  if (trainCount >= minStepsPerEpoch * asked) return asked;
  return Math.max(1, 2 ** Math.floor(Math.log2(Math.max(1, trainCount / minStepsPerEpoch))));
}

/** Widths the budget planner may choose from when `width` is not given: the recipe's, and narrower. */
const candidateWidths = [recipe.width, recipe.width / 2, recipe.width / 4];

/** A run's dataset, opened as `settings` say: both splits, an image folder split with the run's seed. */
export function openRunData(settings: TrainConfig, hooks: Pick<TrainHooks, 'onDataProgress'> = {}): Promise<OpenedDataset> {
  return openDataset(settings.dataset, {
    dataDir: settings.dataDir, verify: settings.verifyData !== false, split: 'both',
    folder: { ...settings.folder, seed: settings.seed, ...(hooks.onDataProgress ? { onProgress: hooks.onDataProgress } : {}) },
  }).catch(namingVerifyData);
}

/** The settings as a run on `data` trains with them: what the dataset decides filled in, the batch capped to its training set. */
export function configForData(settings: TrainConfig, data: OpenedDataset): TrainConfig & { augmentation: AugmentConfig } {
  return { ...settings, augmentation: augmentFor(settings.augmentation, data.info), batchSize: batchSizeFor(settings.batchSize, data.train!.count) };
}

/**
 * What the trainer gets from outside besides its settings: tests swap in a failing backend, and
 * a bench that opened the dataset already (to see whether a finished run can be reused) hands it over.
 */
export interface TrainDependencies {
  createBackend(name: string, options?: BackendOptions): Promise<Backend>;
  openData(settings: TrainConfig, hooks: TrainHooks): Promise<OpenedDataset>;
}

export async function train(
  settings: TrainConfig, hooks: TrainHooks = {}, deps: TrainDependencies = { createBackend, openData: openRunData },
): Promise<TrainResult> {
  const callStart = performance.now();
  const resumed = settings.resume ? readTrainProgress(settings.out) : undefined;
  if (resumed && resumed.trainedEpochs >= resumed.plannedEpochs) {
    const last = resumed.history.at(-1) as EpochRecord | undefined;
    throw new UserError(`${settings.out}: the run finished all ${resumed.plannedEpochs} epochs${last ? ` (test accuracy ${(100 * last.test_accuracy).toFixed(2)}%)` : ''}; there is nothing to resume`);
  }
  if (!resumed && !settings.overwrite && existsSync(join(settings.out, 'model.safetensors'))) {
    throw new UserError(msg`${settings.out} already holds a model (model.safetensors): pass ${setting('overwrite', true)} to train over it, ${setting('resume', true, settings.out)} to go on with it, or choose another ${setting('out')}`);
  }
  hooks.onPhase?.('loading data');
  const data = await deps.openData(settings, hooks);
  // The run's clock starts when its data began to open: a bench may hand over data it opened
  // before calling, and that time is this run's data preparation as much as when opened here.
  const runStart = Math.min(callStart, performance.now() - 1000 * data.openSeconds);
  let phaseStart = runStart;
  const info = data.info;
  const trainSet = data.train!;
  const testSet = data.test!;
  const config = configForData(settings, data);
  if (config.batchSize < settings.batchSize) hooks.onPhase?.(`batch size ${config.batchSize} instead of ${settings.batchSize}: ${trainSet.count} training images make at least ${minStepsPerEpoch} steps per epoch`);
  validateAugment(config.augmentation, info.height, info.width);
  let dataSeconds = since(phaseStart);
  await ensureWritable(config.out);

  // Calibration: timing the precisions (for 'auto'), then the widths (under a budget).
  phaseStart = performance.now();
  const { backend, choice, measured } = await openBackend(config, info, resumed, deps, hooks);
  hooks.onPrecision?.(choice);
  try {
    let plan: BudgetPlan | undefined;
    let width = config.width ?? recipe.width;
    let epochs = config.epochs;
    if (resumed) {
      // The plan was made when the run started: measuring again could choose otherwise.
      plan = resumed.plan ?? undefined;
      width = resumed.width;
      epochs = resumed.plannedEpochs;
    } else if (config.budget !== undefined) {
      hooks.onPhase?.('measuring this machine for the budget');
      // The width 'auto' timed in the chosen precision is not timed again.
      const widths = config.width ? [config.width] : candidateWidths;
      const known = measured && widths.includes(measured.width) ? [measured] : [];
      const measurements = [...known, ...(await measureWidths(backend, info, config, widths.filter((w) => w !== measured?.width)))];
      plan = planBudget(measurements, {
        budgetSeconds: config.budget,
        elapsedSeconds: since(runStart),
        // Precomputing, budgeted at 20,000 images/s (below what BENCHMARKS.md, "Data pipeline
        // (issue 3)", measured on two cores), is a small share of an epoch, but counted.
        prepareSecondsPerEpoch: config.augment === 'precomputed' ? trainSet.count / 20000 : 0,
        trainCount: trainSet.count,
        testCount: testSet.count,
        batchSize: config.batchSize,
        maxEpochs: config.epochs,
        minEpochs: 8,
        reserveSeconds: 15,
        // Beyond the last epoch's own pass: test-time augmentation's other views (all but one), and the confusion matrix's pass.
        finalTestPasses: viewsOf(ttaFor(recipes[config.recipe].architecture, config.tta, trainedViews(config))).length,
      });
      if (!plan) {
        const fastest = Math.min(...measurements.map((m) => m.stepSeconds));
        const why = `a budget of ${config.budget} s cannot fit one epoch here: one step takes at least ${fastest.toFixed(2)} s and an epoch has ` +
          `${Math.floor(trainSet.count / config.batchSize)} steps`;
        throw new UserError(msg`${why}. Raise ${setting('budget')}, lower ${setting('width')}, or use ${setting('backend', 'webgpu')} on a GPU.`);
      }
      hooks.onPlan?.(plan, measurements);
      width = plan.width;
      epochs = plan.epochs;
    }
    const calibrationSeconds = since(phaseStart);

    phaseStart = performance.now();
    const loader = await openLoader(config, info, trainSet, data.sources, epochs, hooks);
    dataSeconds += since(phaseStart);
    try {
      const model = createNetwork(backend, { architecture: recipes[config.recipe].architecture, inChannels: info.channels, classes: info.classes.length, width }, config.seed);
      const optimiser = recipes[config.recipe].optimiser(model, config);
      if (resumed) restoreTrainState(config.out, model, optimiser);
      // Saved after every epoch, so that a run that dies (a lost GPU, a killed process) leaves
      // the last finished epoch behind; the final epoch's save is the run's model.
      const checkpoint = join(config.out, 'model.safetensors');
      if (!resumed) await rm(checkpoint, { force: true });
      let savedEpochs = resumed?.trainedEpochs ?? 0;
      const previous = resumed?.seconds;
      const saveEpoch = async (p: FitProgress): Promise<void> => {
        const trainedEpochs = p.history.length;
        if (trainedEpochs > 0) await saveCheckpoint(checkpoint, model, {
          dataset: info.name,
          classes: info.classes,
          inChannels: info.channels,
          width,
          mean: info.mean,
          std: info.std,
          inputSize: [info.height, info.width],
          ...(data.folder ? { resize: data.folder.settings.resize } : {}),
          config: { ...config, precision: choice.precision, width, epochs, trainedEpochs },
        });
        savedEpochs = trainedEpochs;
        // Only a finished epoch can be resumed from: a stopped one is saved for use, not to go on.
        if (!p.complete) return;
        await saveTrainState(config.out, model, optimiser, {
          settings: { ...settings, resume: undefined, overwrite: undefined },
          width, plannedEpochs: epochs, trainedEpochs, plan: plan ?? null, precision: choice.precision, history: p.history, learningRates: p.learningRates,
          seconds: {
            data_preparation: dataSeconds + (previous?.data_preparation ?? 0),
            calibration: calibrationSeconds + (previous?.calibration ?? 0),
            training: p.trainSeconds,
            evaluation: p.evalSeconds,
          },
        });
      };
      const start: FitStart = resumed
        ? { history: resumed.history as EpochRecord[], learningRates: resumed.learningRates, trainSeconds: resumed.seconds.training, evalSeconds: resumed.seconds.evaluation }
        : { history: [], learningRates: [], trainSeconds: 0, evalSeconds: 0 };
      // The state before the first epoch too: a run killed then resumes as a fresh start with its settings.
      if (!resumed) await saveEpoch({ ...start, complete: true });
      try {
        const fit = await fitModel(model, optimiser, loader, trainSet, testSet, info, config, epochs, start, hooks, saveEpoch, resumed !== undefined).catch((err: unknown) => {
          if (!(err instanceof UserError) || savedEpochs === 0) throw err;
          throw new UserError(msg`${err}\nThe model as of epoch ${savedEpochs} is saved in ${checkpoint}.`);
        });
        const trainImages = fit.history.reduce((s, r) => s + r.images_per_second * r.train_seconds, 0);
        const result: TrainResult = {
          environment: describeEnvironment(backend.name, { kilosecond: kilosecondVersion }),
          config,
          info,
          width,
          plannedEpochs: epochs,
          history: fit.history,
          learningRates: fit.learningRates,
          plan,
          ...(data.folder ? { folder: data.folder } : {}),
          sources: data.sources,
          interrupted: fit.interrupted,
          confusion: fit.confusion,
          timings: {
            data_preparation: dataSeconds + (previous?.data_preparation ?? 0),
            calibration: calibrationSeconds + (previous?.calibration ?? 0),
            training: fit.trainSeconds,
            evaluation: fit.evalSeconds,
            // A resumed run counts the time its earlier sessions spent, phase by phase.
            total: since(runStart) + (previous ? previous.data_preparation + previous.calibration + previous.training + previous.evaluation : 0),
          },
          testAccuracy: fit.history.at(-1)?.test_accuracy ?? 0,
          imagesPerSecond: fit.trainSeconds > 0 ? trainImages / fit.trainSeconds : 0,
          backendName: backend.name,
          precision: choice,
          checkpoint,
          test: testSet,
          peakRssMb: fit.peakRssMb,
        };
        await writeSummary(result);
        return result;
      } finally {
        optimiser.dispose();
        model.dispose();
      }
    } finally {
      await loader.close();
    }
  } finally {
    backend.dispose();
  }
}

/** summary.json: the run's results and settings for programs (the report is for people). */
export type RunSummary = ReturnType<typeof summaryOf>;

export function summaryOf(r: TrainResult) {
  return {
    dataset: r.info.name,
    test_accuracy: r.testAccuracy,
    epochs: r.history.length,
    planned_epochs: r.plannedEpochs,
    width: r.width,
    interrupted: r.interrupted,
    peak_rss_mb: Math.round(r.peakRssMb),
    train_seconds: r.timings.training,
    total_seconds: r.timings.total,
    time_breakdown: r.timings,
    images_per_second: r.imagesPerSecond,
    data_wait_seconds: r.history.reduce((s, e) => s + e.data_wait_seconds, 0),
    budget_plan: r.plan ?? null,
    precision: r.precision.precision,
    precision_reason: r.precision.reason,
    folder: r.folder ? folderSummary(r.folder, r.info) : null,
    data_sources: r.sources,
    per_class_accuracy: classAccuracies(r),
    confusion_matrix: r.confusion,
    config: { ...r.config, precision: r.precision.precision, width: r.width, epochs: r.plannedEpochs },
    environment: r.environment,
  };
}

/** Each class's test accuracy by name (null for all when no epoch finished). */
function classAccuracies(r: TrainResult): Record<string, number | null> {
  const accuracies = perClassAccuracy(r.confusion);
  return Object.fromEntries(r.info.classes.map((c, i) => [c, accuracies[i] ?? null]));
}

/** Class counts per split (in-house data is rarely balanced), the input settings and what was left out. */
function folderSummary(f: NonNullable<OpenedDataset['folder']>, info: DatasetInfo) {
  const counts = (files: ReadonlyArray<{ label: number }>) => info.classes.map((_, c) => files.filter((x) => x.label === c).length);
  return {
    root: f.scan.root,
    layout: f.scan.layout,
    test_split: f.scan.testSplit ?? null,
    input: f.settings,
    class_counts: { train: counts(f.scan.train), test: counts(f.scan.test) },
    ignored_files: f.scan.ignored,
    skipped_images: f.skipped,
  };
}

async function writeSummary(r: TrainResult): Promise<void> {
  await writeFileAtomic(join(r.config.out, 'summary.json'), `${JSON.stringify(summaryOf(r), null, 2)}\n`);
}

async function ensureWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}`);
    await appendFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new UserError(msg`cannot write to ${setting('out')} ${dir}: ${(err as Error).message}`);
  }
}

async function openLoader(
  config: TrainConfig & { augmentation: AugmentConfig }, info: DatasetInfo, train: ImageSet, sources: Record<string, string>, epochs: number, hooks: TrainHooks,
): Promise<TrainLoader> {
  const common = { info, batchSize: config.batchSize };
  if (config.augment === 'none') return createTrainLoader({ ...common, mode: 'none', train, seed: config.seed });
  if (config.augment === 'online') return createTrainLoader({ ...common, mode: 'online', train, augment: config.augmentation, seed: config.seed });
  hooks.onPhase?.(`precomputing ${epochs} augmented epoch(s) as TFRecords`);
  const dir = config.shardsDir ?? join(homedir(), '.cache', 'kilosecond', 'precomputed', `${info.name}-seed${config.seed}`);
  await precompute({ info, train, sources, outDir: dir, epochs, seed: config.seed, augment: config.augmentation });
  return createTrainLoader({ ...common, mode: 'precomputed', dir });
}

/**
 * The run's backend in the precision it trains in: the resumed run's (float32 for a run saved
 * before precision was a setting), or as asked, or for 'auto' the faster of float32 and bf16 on
 * one training step of the run's network (the other backend is disposed); with 'auto', also the
 * chosen precision's measurement, which the budget planner reuses.
 */
async function openBackend(
  config: TrainConfig, info: DatasetInfo, resumed: TrainProgress | undefined, deps: TrainDependencies, hooks: TrainHooks,
): Promise<{ backend: Backend; choice: PrecisionChoice; measured?: StepMeasurement }> {
  if (resumed) {
    const precision = resumed.precision ?? 'fp32';
    return { backend: await deps.createBackend(config.backend, { precision }), choice: { precision, reason: `${precision}, as the run being resumed trained` } };
  }
  const opened = new Map<Precision, Backend>();
  const measured = new Map<Precision, StepMeasurement>();
  const open = async (precision: Precision): Promise<Backend> => {
    if (!opened.has(precision)) opened.set(precision, await deps.createBackend(config.backend, { precision }));
    return opened.get(precision)!;
  };
  try {
    const choice = await choosePrecision(config.precision ?? 'auto', {
      backend: config.backend,
      bf16Available: config.backend === 'cpu' && (await cpuBf16Available()),
      stepSeconds: async (precision) => {
        hooks.onPhase?.(`timing a ${precision} training step`);
        const [m] = await measureWidths(await open(precision), info, config, [config.width ?? recipeDefaults[config.recipe].width]);
        measured.set(precision, m!);
        return m!.stepSeconds;
      },
    });
    const backend = await open(choice.precision);
    for (const [precision, other] of opened) if (precision !== choice.precision) other.dispose();
    return { backend, choice, measured: measured.get(choice.precision) };
  } catch (err) {
    for (const b of opened.values()) b.dispose();
    throw err;
  }
}

/** Time a few training steps of a fresh model per width, plus one evaluation batch. */
async function measureWidths(backend: Backend, info: DatasetInfo, config: TrainConfig, widths: number[]): Promise<StepMeasurement[]> {
  const out: StepMeasurement[] = [];
  const images = Tensor.fromArray(backend, [config.batchSize, info.height, info.width, info.channels],
    new Float32Array(config.batchSize * info.height * info.width * info.channels).map((_, i) => Math.sin(i)));
  const labels = Tensor.fromArray(backend, [config.batchSize], Float32Array.from({ length: config.batchSize }, (_, i) => i % info.classes.length));
  const metrics = new DeviceMetrics(backend);
  try {
    for (const width of widths) {
      const model = createNetwork(backend, { architecture: recipes[config.recipe].architecture, inChannels: info.channels, classes: info.classes.length, width }, config.seed);
      const optimiser = recipes[config.recipe].optimiser(model, config);
      try {
        const timeOf = async (f: () => void): Promise<number> => {
          const start = performance.now();
          f();
          await backend.sync();
          return since(start);
        };
        const step = (): void => trainStep(model, optimiser, { images, labels }, 0, 0);
        await timeOf(step); // warm-up: first-use allocations, kernel compilation
        const stepSeconds = Math.min(await timeOf(step), await timeOf(step));
        const evalSeconds = await timeOf(() => evalBatch(model, { images, labels }, metrics));
        out.push({ width, stepSeconds, evalImagesPerSecond: config.batchSize / evalSeconds });
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

/** Where the epoch loop starts: from nothing, or from a resumed run's last finished epoch. */
interface FitStart { history: EpochRecord[]; learningRates: number[]; trainSeconds: number; evalSeconds: number }

/** The run so far, after an epoch: `complete` is false for an epoch stopped part-way (Ctrl-C). */
interface FitProgress extends FitStart { complete: boolean }

async function fitModel(
  model: Network, optimiser: Sgd, loader: TrainLoader, train: ImageSet, test: ImageSet, info: DatasetInfo, config: TrainConfig, epochs: number,
  start: FitStart, hooks: TrainHooks, saveEpoch: (progress: FitProgress) => Promise<void>, resumed: boolean,
) {
  const backend = model.backend;
  const uploader = new BatchUploader(backend, info);
  const trainMetrics = new DeviceMetrics(backend);
  const testMetrics = new DeviceMetrics(backend);
  const stepsPerEpoch = Math.floor(info.trainCount / config.batchSize);
  const readEvery = Math.max(1, Math.ceil(stepsPerEpoch / 8));
  const chosen = recipes[config.recipe];
  const lrAt = chosen.schedule({ peak: config.lr, peakEpoch: config.peakEpoch, epochs, stepsPerEpoch });
  const session = chosen.start(model, optimiser, { train, info, totalSteps: epochs * stepsPerEpoch, resumed });
  const history = [...start.history];
  const learningRates = [...start.learningRates];
  const metricsFile = join(config.out, 'metrics.jsonl');
  // A resumed run's file may hold an epoch stopped part-way: it starts again from the saved ones.
  await writeFileAtomic(metricsFile, history.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const events = new EventWriter(config.out);
  let trainSeconds = start.trainSeconds;
  let evalSeconds = start.evalSeconds;
  let interrupted = false;
  let peakRss = 0;
  const sampleRss = (): void => void (peakRss = Math.max(peakRss, process.memoryUsage.rss()));
  try {
    for (let epoch = history.length; epoch < epochs && !interrupted; epoch++) {
      hooks.onPhase?.(`epoch ${epoch + 1}/${epochs}`);
      trainMetrics.reset();
      const start = performance.now();
      let waited = 0;
      let step = 0;
      let lr = 0;
      session.startEpoch(epoch);
      const batches = loader.epoch(epoch)[Symbol.asyncIterator]();
      try {
        for (;;) {
          const waitStart = performance.now();
          const next = await batches.next();
          waited += since(waitStart);
          if (next.done) break;
          lr = lrAt(epoch * stepsPerEpoch + step);
          learningRates.push(lr);
          trainStep(model, optimiser, uploader.upload(next.value), lr, config.labelSmoothing, trainMetrics);
          step++;
          sampleRss();
          session.afterStep(epoch * stepsPerEpoch + step);
          hooks.onStep?.(epoch, step, stepsPerEpoch, lr);
          if (hooks.onRunningMetrics && step % readEvery === 0) {
            // Not awaited: the read completes when the device gets there, and the loop goes on queueing steps.
            const e = epoch;
            void trainMetrics.read().then((m) => hooks.onRunningMetrics?.(e, m.accuracy, m.loss), () => undefined);
          }
          if (hooks.shouldStop?.()) {
            interrupted = true;
            break;
          }
        }
      } finally {
        // Stopped early (Ctrl-C, or a step threw): the loader must drop the batches it read ahead.
        await batches.return?.(undefined);
      }
      const trained = await trainMetrics.read(); // waits for the epoch's queued work
      const epochTrainSeconds = since(start);
      trainSeconds += epochTrainSeconds;
      const evalStart = performance.now();
      const last = epoch === epochs - 1 || interrupted;
      if (last) session.finish();
      const recalibrated = last ? Math.min(config.recalibrateBatches, Math.floor(train.count / config.batchSize)) : 0;
      if (recalibrated > 0) {
        // Lazily: the uploader reuses one device tensor per batch size, so each batch must be
        // consumed before the next is written.
        const uploads = function* (): Iterable<DeviceBatch> {
          for (const b of take(testBatches(train, info, config.batchSize), recalibrated)) yield uploader.upload(b);
        };
        recalibrateBatchNorm(model, uploads());
      }
      // Test-time augmentation at the final evaluation only: it multiplies an evaluation's cost.
      const tta = last ? ttaFor(model.config.architecture, config.tta, trainedViews(config)) : 'none';
      const tested = await evaluate(model, test, info, { batchSize: config.evalBatchSize, tta }, uploader, testMetrics);
      const epochEvalSeconds = since(evalStart);
      evalSeconds += epochEvalSeconds;
      sampleRss();
      const record: EpochRecord = {
        epoch: epoch + 1,
        train_loss: trained.loss,
        train_accuracy: trained.accuracy,
        test_loss: tested.loss,
        test_accuracy: tested.accuracy,
        lr,
        train_seconds: epochTrainSeconds,
        eval_seconds: epochEvalSeconds,
        images_per_second: trained.count / epochTrainSeconds,
        data_wait_seconds: waited,
        ...(recalibrated > 0 ? { bn_recalibration_batches: recalibrated } : {}),
      };
      history.push(record);
      await appendFile(metricsFile, `${JSON.stringify(record)}\n`);
      const globalStep = (epoch + 1) * stepsPerEpoch;
      events.scalar('train/loss', record.train_loss, globalStep);
      events.scalar('train/accuracy', record.train_accuracy, globalStep);
      events.scalar('test/loss', record.test_loss, globalStep);
      events.scalar('test/accuracy', record.test_accuracy, globalStep);
      events.scalar('learning_rate', record.lr, globalStep);
      events.scalar('images_per_second', record.images_per_second, globalStep);
      events.flush();
      await saveEpoch({ history, learningRates, trainSeconds, evalSeconds, complete: !interrupted });
      hooks.onEpoch?.(record, epochs);
    }
    // The final model's mistakes by class: one more pass over the test set, counted as evaluation.
    const confusionStart = performance.now();
    const confusion = history.length > 0 ? await confusionMatrix(model, test, info, config.evalBatchSize, uploader) : [];
    evalSeconds += since(confusionStart);
    sampleRss();
    return { history, learningRates, trainSeconds, evalSeconds, interrupted, confusion, peakRssMb: peakRss / 2 ** 20 };
  } finally {
    session.dispose();
    events.close();
    testMetrics.dispose();
    trainMetrics.dispose();
    uploader.dispose();
  }
}

/** The first `n` items of an iterable. */
function* take<T>(items: Iterable<T>, n: number): Iterable<T> {
  if (n <= 0) return;
  let k = 0;
  for (const item of items) {
    yield item;
    if (++k >= n) return;
  }
}
