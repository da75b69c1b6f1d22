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
import { readTrainProgress, restoreRecipeState, restoreTrainState, saveTrainState, type TrainProgress } from './train-state.js';
import type { Tensor } from '../core/tensor.js';
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { Backend } from '../core/backend.js';
import { Message, msg, setting, UserError } from '../core/errors.js';
import { type BackendOptions, createBackend, cpuBf16Available } from '../backends/index.js';
import type { Precision } from '../core/precision.js';
import { type PrecisionChoice, choosePrecision } from './precision.js';
import { augmentFor, validateAugment, type AugmentConfig } from '../data/augment.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { openDataset, type OpenedDataset } from '../data/open.js';
import { createTrainLoader, testBatches, type TrainLoader } from '../data/loader.js';
import { precompute } from '../data/precompute.js';
import { createNetwork } from '../nn/create-network.js';
import type { Network } from '../nn/network.js';
import type { Sgd } from '../optim/sgd.js';
import { type RecipeName, recipes } from './recipes.js';
import { type TrainConfig, type TrainSettings, recipeDefaults, resolveSettings } from './settings.js';
import { trainedViews, ttaFor } from './tta.js';
import { type BudgetPlan, type Replan, type StepMeasurement, replannedSteps } from './budget.js';
import { CompressedSchedule } from './compressed-schedule.js';
import { type RunConfig, planRun, recipeCandidates, measureWidths } from './plan-run.js';
import { saveCheckpoint } from './checkpoint.js';
import { EventWriter } from './tensorboard.js';
import { type EnvironmentInfo, describeEnvironment, kilosecondVersion } from './environment.js';
import { writeFileAtomic } from '../core/atomic.js';
import { BatchUploader, confusionMatrix, evaluate, perClassAccuracy } from './evaluate.js';
import { DeviceMetrics, recalibrateBatchNorm, trainStep, type DeviceBatch } from './step.js';


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
  onPlan?(plan: BudgetPlan, measurements: Array<StepMeasurement & { recipe: RecipeName }>): void;
  /** The recipe the run trains when it was the run's to choose, and why. */
  onRecipe?(recipe: RecipeName, reason: string): void;
  /** Training starts: the recipe's settings as they run, the width and the planned epochs. */
  onTrainStart?(config: TrainConfig, width: number, epochs: number): void;
  /** The budget's plan no longer fit (the machine slowed) and the rest of the schedule was compressed. */
  onReplan?(replan: Replan): void;
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

/** A run's dataset, opened as `settings` say: both splits, an image folder split with the run's seed. */
export function openRunData(settings: TrainSettings, hooks: Pick<TrainHooks, 'onDataProgress'> = {}): Promise<OpenedDataset> {
  return openDataset(settings.dataset, {
    dataDir: settings.dataDir, verify: settings.verifyData !== false, split: 'both',
    folder: { ...settings.folder, seed: settings.seed, ...(hooks.onDataProgress ? { onProgress: hooks.onDataProgress } : {}) },
  }).catch(namingVerifyData);
}

/** The settings as a run on `data` trains with them: what the dataset decides filled in, the batch capped to its training set. */
export function configForData(settings: TrainConfig, data: OpenedDataset): RunConfig {
  return { ...settings, augmentation: augmentFor(settings.augmentation, data.info), batchSize: batchSizeFor(settings.batchSize, data.train!.count) };
}

/**
 * What the trainer gets from outside besides its settings: tests swap in a failing backend, and
 * a bench that opened the dataset already (to see whether a finished run can be reused) hands it over.
 */
export interface TrainDependencies {
  createBackend(name: string, options?: BackendOptions): Promise<Backend>;
  openData(settings: TrainSettings, hooks: TrainHooks): Promise<OpenedDataset>;
  /** Milliseconds, as performance.now() counts them: a test slows the run's clock to see the budget kept. */
  now?(): number;
}

export async function train(
  settings: TrainSettings, hooks: TrainHooks = {}, deps: TrainDependencies = { createBackend, openData: openRunData },
): Promise<TrainResult> {
  const now = deps.now ?? (() => performance.now());
  const since = (start: number): number => (now() - start) / 1000;
  const callStart = now();
  const resumed = settings.resume ? readTrainProgress(settings.out) : undefined;
  if (resumed && resumed.trainedEpochs >= finalEpochs(resumed)) {
    const last = resumed.history.at(-1) as EpochRecord | undefined;
    throw new UserError(`${settings.out}: the run finished all ${finalEpochs(resumed)} epochs${last ? ` (test accuracy ${(100 * last.test_accuracy).toFixed(2)}%)` : ''}; there is nothing to resume`);
  }
  if (!resumed && !settings.overwrite && existsSync(join(settings.out, 'model.safetensors'))) {
    throw new UserError(msg`${settings.out} already holds a model (model.safetensors): pass ${setting('overwrite', true)} to train over it, ${setting('resume', true, settings.out)} to go on with it, or choose another ${setting('out')}`);
  }
  hooks.onPhase?.('loading data');
  const data = await deps.openData(settings, hooks);
  // The run's clock starts when its data began to open: a bench may hand over data it opened
  // before calling, and that time is this run's data preparation as much as when opened here.
  const runStart = Math.min(callStart, now() - 1000 * data.openSeconds);
  let phaseStart = runStart;
  const info = data.info;
  const trainSet = data.train!;
  const testSet = data.test!;
  // A resumed run trains the recipe it chose when it started (runs from before the choice: dawnbench's).
  const candidates = resumed ? { recipes: [(resumed.settings as TrainSettings).recipe === 'fast' ? 'fast' as const : 'dawnbench' as const] } : recipeCandidates(settings, info);
  const configs: Partial<Record<RecipeName, RunConfig>> = {};
  for (const r of candidates.recipes) {
    const c = configForData(resolveSettings(settings, r), data);
    const asked = settings.batchSize ?? recipeDefaults[r].batchSize;
    if (c.batchSize < asked) hooks.onPhase?.(`batch size ${c.batchSize} instead of ${asked}: ${trainSet.count} training images make at least ${minStepsPerEpoch} steps per epoch`);
    validateAugment(c.augmentation, info.height, info.width);
    configs[r] = c;
  }
  const first = configs[candidates.recipes[0]!]!;
  let dataSeconds = since(phaseStart);
  await ensureWritable(first.out);

  // Calibration: timing the precisions (for 'auto'), then the candidates (under a budget).
  phaseStart = now();
  const { backend, choice } = await openBackend(first, info, resumed, deps, hooks, now);
  hooks.onPrecision?.(choice);
  try {
    let plan: BudgetPlan | undefined;
    let config = first;
    let width = first.width ?? recipeDefaults[first.recipe].width;
    let epochs = first.epochs;
    if (resumed) {
      // The plan was made when the run started: measuring again could choose otherwise.
      plan = resumed.plan ?? undefined;
      width = resumed.width;
      epochs = resumed.plannedEpochs;
    } else {
      const planned = await planRun(backend, {
        settings, configs, candidates, info, trainCount: trainSet.count, testCount: testSet.count,
        elapsedSeconds: () => since(runStart), now, ...(hooks.onPhase ? { onPhase: hooks.onPhase } : {}),
      });
      config = configs[planned.recipe]!;
      await backend.sync();
      backend.trim();
      if (planned.recipeReason) hooks.onRecipe?.(planned.recipe, planned.recipeReason);
      plan = planned.plan;
      if (plan) hooks.onPlan?.(plan, planned.measurements);
      width = planned.width;
      epochs = planned.epochs;
    }
    const calibrationSeconds = since(phaseStart);

    phaseStart = now();
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
          // The settings as resolved for the recipe that runs: a resume trains it again.
          settings: { ...resolveSettings(settings, config.recipe), resume: undefined, overwrite: undefined },
          width, plannedEpochs: epochs, trainedEpochs, plan: plan ?? null, precision: choice.precision, history: p.history, learningRates: p.learningRates,
          seconds: {
            data_preparation: dataSeconds + (previous?.data_preparation ?? 0),
            calibration: calibrationSeconds + (previous?.calibration ?? 0),
            training: p.trainSeconds,
            evaluation: p.evalSeconds,
          },
        }, p.recipeState);
      };
      const start: FitStart = resumed
        ? { history: resumed.history as EpochRecord[], learningRates: resumed.learningRates, trainSeconds: resumed.seconds.training, evalSeconds: resumed.seconds.evaluation }
        : { history: [], learningRates: [], trainSeconds: 0, evalSeconds: 0 };
      hooks.onTrainStart?.(config, width, epochs);
      // The state before the first epoch too: a run killed then resumes as a fresh start with its settings.
      if (!resumed) await saveEpoch({ ...start, complete: true, recipeState: [] });
      try {
        // A resumed session keeps the plan and its re-plans, but watches the budget no more: the
        // budget was the first session's.
        const budget = plan && !resumed && config.budget !== undefined
          ? { seconds: config.budget, runStart, evalSecondsPerEpoch: plan.evalSecondsPerEpoch, finalSeconds: plan.finalSeconds }
          : undefined;
        const fit = await fitModel(model, optimiser, loader, trainSet, testSet, info, config, epochs, start, hooks, saveEpoch, resumed !== undefined,
          now, plan?.steps, plan?.replans ?? [], budget).catch((err: unknown) => {
          if (!(err instanceof UserError) || savedEpochs === 0) throw err;
          throw new UserError(msg`${err}\nThe model as of epoch ${savedEpochs} is saved in ${checkpoint}; ${setting('resume', true, config.out)} goes on from its last finished epoch.`);
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

/** The epochs a run trains in all: as planned, or fewer where a re-plan compressed its schedule. */
function finalEpochs(p: TrainProgress): number {
  const steps = p.plan?.replans?.at(-1)?.steps_after ?? p.plan?.steps;
  return steps !== undefined && p.plan ? Math.ceil(steps / p.plan.stepsPerEpoch) : p.plannedEpochs;
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
 * one training step of the run's network (the other backend is disposed).
 */
async function openBackend(
  config: TrainConfig, info: DatasetInfo, resumed: TrainProgress | undefined, deps: TrainDependencies, hooks: TrainHooks, now: () => number,
): Promise<{ backend: Backend; choice: PrecisionChoice }> {
  if (resumed) {
    const precision = resumed.precision ?? 'fp32';
    return { backend: await deps.createBackend(config.backend, { precision }), choice: { precision, reason: `${precision}, as the run being resumed trained` } };
  }
  const opened = new Map<Precision, Backend>();
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
        const [m] = await measureWidths(await open(precision), info, config, [config.width ?? recipeDefaults[config.recipe].width], now);
        return m!.stepSeconds;
      },
    });
    const backend = await open(choice.precision);
    for (const [precision, other] of opened) if (precision !== choice.precision) other.dispose();
    return { backend, choice };
  } catch (err) {
    for (const b of opened.values()) b.dispose();
    throw err;
  }
}

/** Where the epoch loop starts: from nothing, or from a resumed run's last finished epoch. */
interface FitStart { history: EpochRecord[]; learningRates: number[]; trainSeconds: number; evalSeconds: number }

/**
 * The run so far, after an epoch: `complete` is false for an epoch stopped part-way (Ctrl-C);
 * `recipeState` is what the recipe's session keeps besides the model and optimiser.
 */
interface FitProgress extends FitStart { complete: boolean; recipeState: readonly Tensor[] }

/** A budgeted run's promise, watched while it trains (budget.ts, affordableSteps). */
interface FitBudget {
  seconds: number;
  /** When the run started, on the run's clock. */
  runStart: number;
  /** Predicted seconds of one epoch's evaluation, and of the passes after the last epoch, with the reserve. */
  evalSecondsPerEpoch: number;
  finalSeconds: number;
}

/**
 * The fewest steps a re-plan's step time is measured over: all the steps since the epoch began
 * or the last re-plan was made count (a few steps alone vary by 10%, enough to cut and stretch
 * the plan by turns).
 */
const replanWindow = 8;

async function fitModel(
  model: Network, optimiser: Sgd, loader: TrainLoader, train: ImageSet, test: ImageSet, info: DatasetInfo, config: TrainConfig, epochs: number,
  start: FitStart, hooks: TrainHooks, saveEpoch: (progress: FitProgress) => Promise<void>, resumed: boolean,
  now: () => number, plannedSteps: number | undefined, replans: Replan[], budget: FitBudget | undefined,
) {
  const since = (t: number): number => (now() - t) / 1000;
  const backend = model.backend;
  const uploader = new BatchUploader(backend, info);
  const trainMetrics = new DeviceMetrics(backend);
  const testMetrics = new DeviceMetrics(backend);
  const stepsPerEpoch = Math.floor(info.trainCount / config.batchSize);
  const readEvery = Math.max(1, Math.ceil(stepsPerEpoch / 8));
  const chosen = recipes[config.recipe];
  const lrAt = chosen.schedule({ peak: config.lr, peakEpoch: config.peakEpoch, epochs, stepsPerEpoch });
  // The planned schedule, with the re-plans made so far (a resumed run's included) applied again.
  const schedule = new CompressedSchedule(epochs * stepsPerEpoch);
  // A plan's last epoch may be cut short: its schedule is compressed into the planned steps from the start.
  if (plannedSteps !== undefined && plannedSteps < schedule.plannedSteps) schedule.compress(0, plannedSteps);
  for (const r of replans) schedule.compress(r.after_step, r.steps_after);
  // A state saved before the first epoch is a fresh start: the session sets up from the data
  // (the fast recipe's whitening) as it would have.
  const goingOn = resumed && start.history.length > 0;
  const session = chosen.start(model, optimiser, { train, info, totalSteps: epochs * stepsPerEpoch, resumed: goingOn });
  if (goingOn) restoreRecipeState(config.out, session.state());
  const recentSteps: number[] = [];
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
    for (let epoch = history.length; epoch * stepsPerEpoch < schedule.totalSteps && !interrupted; epoch++) {
      const lastEpoch = Math.ceil(schedule.totalSteps / stepsPerEpoch);
      hooks.onPhase?.(`epoch ${epoch + 1}/${lastEpoch}`);
      trainMetrics.reset();
      const start = now();
      // A step time is measured within an epoch: the pause for evaluation is not a slow step.
      recentSteps.length = 0;
      let waited = 0;
      let step = 0;
      let lr = 0;
      session.startEpoch(epoch);
      const batches = loader.epoch(epoch)[Symbol.asyncIterator]();
      try {
        for (;;) {
          if (epoch * stepsPerEpoch + step >= schedule.totalSteps) break;
          const waitStart = now();
          const next = await batches.next();
          waited += since(waitStart);
          if (next.done) break;
          lr = lrAt(schedule.position(epoch * stepsPerEpoch + step));
          learningRates.push(lr);
          trainStep(model, optimiser, uploader.upload(next.value), lr, config.labelSmoothing, trainMetrics);
          step++;
          sampleRss();
          if (budget) {
            recentSteps.push(now());
            const replan = replanIfLate(budget, schedule, epoch * stepsPerEpoch + step, recentSteps, stepsPerEpoch, since);
            if (replan) {
              // The next decision is made on steps taken after this one.
              recentSteps.length = 0;
              replans.push(replan);
              hooks.onReplan?.(replan);
            }
          }
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
      const evalStart = now();
      const last = (epoch + 1) * stepsPerEpoch >= schedule.totalSteps || interrupted;
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
      await saveEpoch({ history, learningRates, trainSeconds, evalSeconds, complete: !interrupted, recipeState: session.state() });
      hooks.onEpoch?.(record, Math.ceil(schedule.totalSteps / stepsPerEpoch));
    }
    // The final model's mistakes by class: one more pass over the test set, counted as evaluation.
    const confusionStart = now();
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

/**
 * After a step of a budgeted run: when the steps left no longer end where the budget says at
 * the recent step time, compress (or stretch back) the rest of the schedule into the steps that
 * do, and record why. The evaluations still to come (one per epoch left, and the final passes)
 * are counted at the plan's estimate.
 */
function replanIfLate(
  budget: FitBudget, schedule: CompressedSchedule, stepsDone: number, recentSteps: readonly number[], stepsPerEpoch: number,
  since: (t: number) => number,
): Replan | undefined {
  if (recentSteps.length <= replanWindow) return undefined;
  // The mean step, less any over 3x the median: a pause (the process stopped, swapped out) is one
  // long step whose time the elapsed seconds already count; taken as the pace, it cut a run
  // stopped for 60 s to 25 steps (BENCHMARKS.md). What recurs (the weight average every 5th step) stays in.
  const durations = recentSteps.slice(1).map((t, i) => t - recentSteps[i]!);
  const median = [...durations].sort((a, b) => a - b)[durations.length >> 1]!;
  const steady = durations.filter((d) => d <= 3 * median);
  const secondsPerStep = steady.reduce((a, b) => a + b, 0) / steady.length / 1000;
  const epochsToEvaluate = Math.ceil(schedule.totalSteps / stepsPerEpoch) - Math.floor(stepsDone / stepsPerEpoch);
  const progress = {
    budgetSeconds: budget.seconds, elapsedSeconds: since(budget.runStart), stepsDone, totalSteps: schedule.totalSteps, plannedSteps: schedule.plannedSteps, secondsPerStep,
    secondsAfterSteps: epochsToEvaluate * budget.evalSecondsPerEpoch + budget.finalSeconds,
  };
  const affordable = replannedSteps(progress);
  if (affordable === undefined) return undefined;
  const how = affordable < schedule.totalSteps ? 'compressed into' : 'stretched back over';
  const replan: Replan = {
    after_step: stepsDone, elapsed_seconds: progress.elapsedSeconds, steps_before: schedule.totalSteps, steps_after: affordable, seconds_per_step: secondsPerStep,
    reason: `at ${secondsPerStep.toFixed(3)} s per step the ${schedule.totalSteps - stepsDone} steps left would end at ` +
      `${(progress.elapsedSeconds + (schedule.totalSteps - stepsDone) * secondsPerStep + progress.secondsAfterSteps).toFixed(0)} s of a ${budget.seconds} s budget: ` +
      `the rest of the schedule is ${how} ${affordable - stepsDone} steps`,
  };
  schedule.compress(stepsDone, affordable);
  return replan;
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
