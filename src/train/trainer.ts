/**
 * @file `train`: data in, a trained model and its run folder out. A client of `fit`.
 *
 * Phases, each timed: data preparation (run-data.ts: load the dataset, precompute the augmented
 * epochs when asked), calibration (plan-run.ts: the precision, and under a budget the recipe,
 * width and steps the time buys), training (`fit`'s epochs, each followed by a pass over the test
 * set, recorded in the run folder by recorder.ts), and summary.json. Progress is reported through
 * `TrainHooks`; the trainer prints nothing and knows nothing of terminals.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readTrainProgress, restoreRecipeState, restoreTrainState, type TrainProgress } from './train-state.js';
import type { Backend } from '../core/backend.js';
import { msg, setting, UserError } from '../core/errors.js';
import { type BackendOptions, createBackend } from '../backends/index.js';
import type { PrecisionChoice } from './precision.js';
import type { AugmentConfig } from '../data/augment.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import type { OpenedDataset } from '../data/open.js';
import type { TrainLoader } from '../data/loader.js';
import { createNetwork } from '../nn/create-network.js';
import type { Network } from '../nn/network.js';
import type { Sgd } from '../optim/sgd.js';
import { type RecipeName, recipes } from './recipes.js';
import { type TrainConfig, type TrainSettings, recipeDefaults, resolveSettings } from './settings.js';
import type { BudgetPlan, Replan, StepMeasurement } from './budget.js';
import { hostMemory } from './host-memory.js';
import { type RunConfig, planRun, recipeCandidates } from './plan-run.js';
import { openRunBackend } from './run-backend.js';
import { type EnvironmentInfo, describeEnvironment, kilosecondVersion } from './environment.js';
import { type EpochRecord, type FitProgress, type FitStart, fit } from './fit.js';
import { ensureWritable, RunRecorder } from './recorder.js';
import { openLoader, openRunData } from './run-data.js';
import { candidateConfigs, planFitOptions, recipeFitOptions, runCheckpointMeta, scaledToBatch } from './fit-recipe.js';
import { writeSummary } from './summary.js';

export type { EpochRecord } from './fit.js';

export interface TrainHooks {
  onPhase?(phase: string): void;
  onPlan?(plan: BudgetPlan, measurements: Array<StepMeasurement & { recipe: RecipeName }>): void;
  /** The recipe the run trains when it was the run's to choose, and why. */
  onRecipe?(recipe: RecipeName, reason: string): void;
  /** The batch was lowered to fit this machine's memory, and why (memory-plan.ts). */
  onMemory?(reason: string): void;
  /** Training starts: the recipe's settings as they run, the width and the planned epochs. */
  onTrainStart?(config: TrainConfig, width: number, epochs: number): void;
  /** The budget's plan no longer fit (the machine slowed) and the rest of the schedule was compressed. */
  onReplan?(replan: Replan): void;
  /** The precision the run trains in, and why. */
  onPrecision?(choice: PrecisionChoice): void;
  onStep?(epoch: number, step: number, steps: number, lr: number): void;
  /** Running training accuracy and loss of the epoch so far, read back a few times per epoch. */
  onRunningMetrics?(epoch: number, accuracy: number, loss: number, step: number): void;
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
  const configs = candidateConfigs(settings, candidates.recipes, info, trainSet.count, hooks.onPhase);
  const first = configs[candidates.recipes[0]!]!;
  let dataSeconds = since(phaseStart);
  await ensureWritable(first.out);

  // Calibration: timing the precisions (for 'auto'), then the candidates (under a budget).
  phaseStart = now();
  const { backend, choice } = await openRunBackend(first, info, resumed, deps.createBackend, now, hooks.onPhase);
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
        ...(first.backend === 'cpu' ? { memory: hostMemory(settings.maxMemoryGb) } : {}),
      });
      config = scaledToBatch(configs[planned.recipe]!, planned.batchSize);
      await backend.sync();
      backend.trim();
      if (planned.recipeReason) hooks.onRecipe?.(planned.recipe, planned.recipeReason);
      if (planned.memoryReason) hooks.onMemory?.(planned.memoryReason);
      plan = planned.plan;
      if (plan) hooks.onPlan?.(plan, planned.measurements);
      width = planned.width;
      epochs = planned.epochs;
    }
    const calibrationSeconds = since(phaseStart);

    phaseStart = now();
    const loader = await openLoader(config, info, trainSet, data.sources, epochs, hooks.onPhase);
    dataSeconds += since(phaseStart);
    try {
      const chosen = recipes[config.recipe];
      const model = createNetwork(backend, { architecture: chosen.architecture, inChannels: info.channels, classes: info.classes.length, width }, config.seed);
      const optimiser = chosen.optimiser(model, config);
      try {
        if (resumed) restoreTrainState(config.out, model, optimiser);
        const previous = resumed?.seconds;
        const stepsPerEpoch = Math.floor(info.trainCount / config.batchSize);
        const start = startOf(resumed);
        const recorder = await RunRecorder.open({
          out: config.out, model, optimiser, stepsPerEpoch,
          checkpointMeta: (trainedEpochs) => runCheckpointMeta(info, {
            config, width, epochs, trainedEpochs, precision: choice.precision, ...(data.folder ? { resize: data.folder.settings.resize } : {}),
          }),
          trainProgress: (p: FitProgress): TrainProgress => ({
            // The settings as resolved for the recipe that runs: a resume trains it again.
            // The memory planner's batch, where it lowered the recipe's, is kept with its rate.
            settings: { ...resolveSettings(settings, config.recipe), ...loweredBatch(config, configs[config.recipe]!), resume: undefined, overwrite: undefined },
            width, plannedEpochs: epochs, trainedEpochs: p.history.length, plan: plan ?? null, precision: choice.precision, history: p.history, learningRates: p.learningRates,
            seconds: {
              data_preparation: dataSeconds + (previous?.data_preparation ?? 0),
              calibration: calibrationSeconds + (previous?.calibration ?? 0),
              training: p.trainSeconds,
              evaluation: p.evalSeconds,
            },
          }),
        }, start, resumed !== undefined);
        hooks.onTrainStart?.(config, width, epochs);
        try {
          const result = await fitRun(config, info, trainSet, testSet, model, optimiser, loader, epochs, stepsPerEpoch, start, resumed !== undefined, plan, runStart, now, recorder, hooks)
            .catch((err: unknown) => {
              if (!(err instanceof UserError) || recorder.savedEpochs === 0) throw err;
              throw new UserError(msg`${err}\nThe model as of epoch ${recorder.savedEpochs} is saved in ${recorder.checkpoint}; ${setting('resume', true, config.out)} goes on from its last finished epoch.`);
            });
          recorder.finish();
          const trainImages = result.history.reduce((s, r) => s + r.images_per_second * r.train_seconds, 0);
          const trained: TrainResult = {
            environment: describeEnvironment(backend.name, { kilosecond: kilosecondVersion }),
            config,
            info,
            width,
            plannedEpochs: epochs,
            history: result.history,
            learningRates: result.learningRates,
            plan,
            ...(data.folder ? { folder: data.folder } : {}),
            sources: data.sources,
            interrupted: result.interrupted,
            confusion: result.confusion,
            timings: {
              data_preparation: dataSeconds + (previous?.data_preparation ?? 0),
              calibration: calibrationSeconds + (previous?.calibration ?? 0),
              training: result.trainSeconds,
              evaluation: result.evalSeconds,
              // A resumed run counts the time its earlier sessions spent, phase by phase.
              total: since(runStart) + (previous ? previous.data_preparation + previous.calibration + previous.training + previous.evaluation : 0),
            },
            testAccuracy: result.history.at(-1)?.test_accuracy ?? 0,
            imagesPerSecond: result.trainSeconds > 0 ? trainImages / result.trainSeconds : 0,
            backendName: backend.name,
            precision: choice,
            checkpoint: recorder.checkpoint,
            test: testSet,
            peakRssMb: recorder.peakRssMb,
          };
          await writeSummary(trained);
          return trained;
        } finally {
          recorder.close();
        }
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

/** The batch settings of `config` where the memory planner lowered them from `asked`'s (nothing otherwise). */
function loweredBatch(config: RunConfig, asked: RunConfig): Partial<Pick<RunConfig, 'batchSize' | 'lr' | 'evalBatchSize'>> {
  return config.batchSize < asked.batchSize ? { batchSize: config.batchSize, lr: config.lr, evalBatchSize: config.evalBatchSize } : {};
}

/** Where a run's epochs start: from nothing, or from a resumed run's last finished epoch. */
function startOf(resumed: TrainProgress | undefined): FitStart {
  return resumed
    ? { history: resumed.history as EpochRecord[], learningRates: resumed.learningRates, trainSeconds: resumed.seconds.training, evalSeconds: resumed.seconds.evaluation }
    : { history: [], learningRates: [], trainSeconds: 0, evalSeconds: 0 };
}

/** `fit` as a run calls it: the recipe's schedule and session, the loader's batches, the plan's steps and the budget watched. */
function fitRun(
  config: RunConfig, info: DatasetInfo, trainSet: ImageSet, testSet: ImageSet, model: Network, optimiser: Sgd,
  loader: TrainLoader, epochs: number, stepsPerEpoch: number, start: FitStart, resumed: boolean, plan: BudgetPlan | undefined,
  runStart: number, now: () => number, recorder: RunRecorder, hooks: TrainHooks,
) {
  // A state saved before the first epoch is a fresh start: the session sets up from the data
  // (the fast recipe's whitening) as it would have.
  const goingOn = resumed && start.history.length > 0;
  const options = recipeFitOptions(config, model, optimiser, { train: trainSet, test: testSet, info, epochs, stepsPerEpoch, resumed: goingOn });
  if (goingOn) restoreRecipeState(config.out, options.session!.state());
  return fit({
    ...options,
    ...planFitOptions(plan, config.budget, runStart, !resumed),
    start, now,
    batches: (epoch) => loader.epoch(epoch),
  }, recorder.hooks({
    onEpochStart: (epoch, all) => hooks.onPhase?.(`epoch ${epoch + 1}/${all}`),
    onStep: hooks.onStep, onRunningMetrics: hooks.onRunningMetrics, onReplan: hooks.onReplan, shouldStop: hooks.shouldStop,
    onEpoch: (record, _progress, all) => hooks.onEpoch?.(record, all),
  }));
}

/** The epochs a run trains in all: as planned, or fewer where a re-plan compressed its schedule. */
function finalEpochs(p: TrainProgress): number {
  const steps = p.plan?.replans?.at(-1)?.steps_after ?? p.plan?.steps;
  return steps !== undefined && p.plan ? Math.ceil(steps / p.plan.stepsPerEpoch) : p.plannedEpochs;
}
