/**
 * @file The trainer: data in, a trained model and its history out.
 *
 * Phases, each timed: data preparation (load the dataset, precompute the augmented epochs when
 * asked), an optional budget calibration (a few timed steps per candidate width), training
 * (epochs of trainStep fed by the streaming loader, each followed by a pass over the test set),
 * and the run folder (checkpoint, metrics). Progress is reported through `TrainHooks`; the trainer
 * prints nothing and knows nothing of terminals.
 */
import { mkdir, appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { createBackend } from '../backends/index.js';
import { defaultAugment, validateAugment, withPadMode, type AugmentConfig, type AugmentSettings } from '../data/augment.js';
import { type DatasetInfo, type DatasetName, type ImageSet, datasetInfo, loadDataset } from '../data/datasets.js';
import { createTrainLoader, testBatches, type TrainLoader } from '../data/loader.js';
import { precompute } from '../data/precompute.js';
import { ResNet9 } from '../nn/resnet9.js';
import { Sgd } from '../optim/sgd.js';
import { oneCycle } from '../optim/schedule.js';
import { type BudgetPlan, type StepMeasurement, planBudget } from './budget.js';
import { saveCheckpoint } from './checkpoint.js';
import { EventWriter } from './tensorboard.js';
import { type EnvironmentInfo, describeEnvironment, kilosecondVersion } from './environment.js';
import { writeFileAtomic } from '../core/atomic.js';
import { BatchUploader, evaluate } from './evaluate.js';
import { DeviceMetrics, evalBatch, recalibrateBatchNorm, trainStep, type DeviceBatch } from './step.js';

export type AugmentMode = 'precomputed' | 'online' | 'none';

export interface TrainConfig {
  dataset: DatasetName;
  epochs: number;
  batchSize: number;
  /** Base width; undefined lets the budget planner choose (64 without a budget). */
  width?: number;
  lr: number;
  peakEpoch: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  labelSmoothing: number;
  augment: AugmentMode;
  /** The pad mode, when not given, is the dataset's (DatasetInfo.padMode). */
  augmentation: AugmentSettings;
  backend: string;
  seed: number;
  dataDir?: string;
  /** Check the dataset files' md5s and image counts (default true). */
  verifyData?: boolean;
  /** Where precomputed shards go (default: the user cache, so runs reuse them). */
  shardsDir?: string;
  out: string;
  /** Seconds for the whole run; undefined trains `epochs` epochs whatever it takes. */
  budget?: number;
  /** Average the logits of each test image and its mirror image. */
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

/** The DAWNBench recipe (DESIGN.md §1). */
export const recipe: Omit<TrainConfig, 'dataset' | 'out'> = {
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
  augmentation: { ...defaultAugment },
  backend: 'cpu',
  seed: 0,
  tta: false,
  evalBatchSize: 1000,
  recalibrateBatches: 0,
};

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
  onStep?(epoch: number, step: number, steps: number, lr: number): void;
  /** Running training accuracy and loss of the epoch so far, read back a few times per epoch. */
  onRunningMetrics?(epoch: number, accuracy: number, loss: number): void;
  onEpoch?(record: EpochRecord, epochs: number): void;
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
  interrupted: boolean;
  timings: { data_preparation: number; calibration: number; training: number; evaluation: number; total: number };
  testAccuracy: number;
  imagesPerSecond: number;
  backendName: string;
  checkpoint: string;
  /** The test set, for reports that show images (Grad-CAM). */
  test: ImageSet;
}

/** Seconds since `start` (a performance.now() value). */
const since = (start: number): number => (performance.now() - start) / 1000;

/** Widths the budget planner may choose from when --width is not given. */
const candidateWidths = [64, 32, 16];

/** What the trainer gets from outside besides its settings (tests swap in a failing backend). */
export interface TrainDependencies {
  createBackend(name: string): Promise<Backend>;
}

export async function train(
  settings: TrainConfig, hooks: TrainHooks = {}, deps: TrainDependencies = { createBackend },
): Promise<TrainResult> {
  const runStart = performance.now();
  const info = datasetInfo(settings.dataset);
  const augmentation = withPadMode(settings.augmentation, info.padMode);
  const config = { ...settings, augmentation };
  validateAugment(augmentation, info.height, info.width);

  hooks.onPhase?.('loading data');
  let phaseStart = performance.now();
  const data = await loadDataset(config.dataset, { dataDir: config.dataDir, verify: config.verifyData !== false, split: 'both' });
  const trainSet = data.train!;
  const testSet = data.test!;
  if (trainSet.count < config.batchSize) {
    throw new UserError(`--batch-size ${config.batchSize} is larger than the ${trainSet.count} training images`);
  }
  let dataSeconds = since(phaseStart);
  await ensureWritable(config.out);

  const backend = await deps.createBackend(config.backend);
  try {
    phaseStart = performance.now();
    let plan: BudgetPlan | undefined;
    let width = config.width ?? 64;
    let epochs = config.epochs;
    if (config.budget !== undefined) {
      hooks.onPhase?.('measuring this machine for the budget');
      const measurements = await measureWidths(backend, info, config, config.width ? [config.width] : candidateWidths);
      plan = planBudget(measurements, {
        budgetSeconds: config.budget,
        elapsedSeconds: since(runStart),
        // Precomputing runs at tens of thousands of images/s: a small share of an epoch, but counted.
        prepareSecondsPerEpoch: config.augment === 'precomputed' ? trainSet.count / 20000 : 0,
        trainCount: trainSet.count,
        testCount: testSet.count,
        batchSize: config.batchSize,
        maxEpochs: config.epochs,
        minEpochs: 8,
        reserveSeconds: 15,
      });
      if (!plan) {
        const fastest = Math.min(...measurements.map((m) => m.stepSeconds));
        throw new UserError(
          `a budget of ${config.budget} s cannot fit one epoch here: one step takes at least ${fastest.toFixed(2)} s and an epoch has ` +
            `${Math.floor(trainSet.count / config.batchSize)} steps. Raise --budget, lower --width, or use --backend webgpu on a GPU.`,
        );
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
      const model = new ResNet9(backend, { inChannels: info.channels, classes: info.classes.length, width }, config.seed);
      // Saved after every epoch, so that a run that dies (a lost GPU, a killed process) leaves
      // the last finished epoch behind; the final epoch's save is the run's model.
      const checkpoint = join(config.out, 'model.safetensors');
      await rm(checkpoint, { force: true });
      let savedEpochs = 0;
      const saveEpoch = async (trainedEpochs: number): Promise<void> => {
        await saveCheckpoint(checkpoint, model, {
          dataset: info.name,
          classes: info.classes,
          inChannels: info.channels,
          width,
          mean: info.mean,
          std: info.std,
          inputSize: [info.height, info.width],
          config: { ...config, width, epochs, trainedEpochs },
        });
        savedEpochs = trainedEpochs;
      };
      try {
        const fit = await fitModel(model, loader, trainSet, testSet, info, config, epochs, hooks, saveEpoch).catch((err: unknown) => {
          if (!(err instanceof UserError) || savedEpochs === 0) throw err;
          throw new UserError(`${err.message}\nThe model as of epoch ${savedEpochs} is saved in ${checkpoint}.`);
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
          interrupted: fit.interrupted,
          timings: {
            data_preparation: dataSeconds,
            calibration: calibrationSeconds,
            training: fit.trainSeconds,
            evaluation: fit.evalSeconds,
            total: since(runStart),
          },
          testAccuracy: fit.history.at(-1)?.test_accuracy ?? 0,
          imagesPerSecond: fit.trainSeconds > 0 ? trainImages / fit.trainSeconds : 0,
          backendName: backend.name,
          checkpoint,
          test: testSet,
        };
        await writeSummary(result);
        return result;
      } finally {
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
async function writeSummary(r: TrainResult): Promise<void> {
  const summary = {
    dataset: r.info.name,
    test_accuracy: r.testAccuracy,
    epochs: r.history.length,
    planned_epochs: r.plannedEpochs,
    width: r.width,
    interrupted: r.interrupted,
    train_seconds: r.timings.training,
    total_seconds: r.timings.total,
    time_breakdown: r.timings,
    images_per_second: r.imagesPerSecond,
    data_wait_seconds: r.history.reduce((s, e) => s + e.data_wait_seconds, 0),
    budget_plan: r.plan ?? null,
    config: { ...r.config, width: r.width, epochs: r.plannedEpochs },
    environment: r.environment,
  };
  await writeFileAtomic(join(r.config.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}

async function ensureWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}`);
    await appendFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new UserError(`cannot write to --out ${dir}: ${(err as Error).message}`);
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

/** Time a few training steps of a fresh model per width, plus one evaluation batch. */
async function measureWidths(backend: Backend, info: DatasetInfo, config: TrainConfig, widths: number[]): Promise<StepMeasurement[]> {
  const out: StepMeasurement[] = [];
  const images = Tensor.fromArray(backend, [config.batchSize, info.height, info.width, info.channels],
    new Float32Array(config.batchSize * info.height * info.width * info.channels).map((_, i) => Math.sin(i)));
  const labels = Tensor.fromArray(backend, [config.batchSize], Float32Array.from({ length: config.batchSize }, (_, i) => i % info.classes.length));
  const metrics = new DeviceMetrics(backend);
  try {
    for (const width of widths) {
      const model = new ResNet9(backend, { inChannels: info.channels, classes: info.classes.length, width }, config.seed);
      const optimiser = new Sgd(model.parameters(), config);
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
        const evalSeconds = await timeOf(() => evalBatch(model, { images, labels }, metrics, false));
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

async function fitModel(
  model: ResNet9, loader: TrainLoader, train: ImageSet, test: ImageSet, info: DatasetInfo, config: TrainConfig, epochs: number,
  hooks: TrainHooks, saveEpoch: (trainedEpochs: number) => Promise<void>,
) {
  const backend = model.backend;
  const optimiser = new Sgd(model.parameters(), config);
  const uploader = new BatchUploader(backend, info);
  const trainMetrics = new DeviceMetrics(backend);
  const testMetrics = new DeviceMetrics(backend);
  const stepsPerEpoch = Math.floor(info.trainCount / config.batchSize);
  const readEvery = Math.max(1, Math.ceil(stepsPerEpoch / 8));
  const lrAt = oneCycle({ peak: config.lr, peakEpoch: config.peakEpoch, epochs, stepsPerEpoch });
  const history: EpochRecord[] = [];
  const learningRates: number[] = [];
  const metricsFile = join(config.out, 'metrics.jsonl');
  await rm(metricsFile, { force: true });
  const events = new EventWriter(config.out);
  let trainSeconds = 0;
  let evalSeconds = 0;
  let interrupted = false;
  try {
    for (let epoch = 0; epoch < epochs && !interrupted; epoch++) {
      hooks.onPhase?.(`epoch ${epoch + 1}/${epochs}`);
      trainMetrics.reset();
      const start = performance.now();
      let waited = 0;
      let step = 0;
      let lr = 0;
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
      const recalibrated = last ? Math.min(config.recalibrateBatches, Math.floor(train.count / config.batchSize)) : 0;
      if (recalibrated > 0) {
        // Lazily: the uploader reuses one device tensor per batch size, so each batch must be
        // consumed before the next is written.
        const uploads = function* (): Iterable<DeviceBatch> {
          for (const b of take(testBatches(train, info, config.batchSize), recalibrated)) yield uploader.upload(b);
        };
        recalibrateBatchNorm(model, uploads());
      }
      const tested = await evaluate(model, test, info, { batchSize: config.evalBatchSize, tta: config.tta }, uploader, testMetrics);
      const epochEvalSeconds = since(evalStart);
      evalSeconds += epochEvalSeconds;
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
      await saveEpoch(epoch + 1);
      hooks.onEpoch?.(record, epochs);
    }
    return { history, learningRates, trainSeconds, evalSeconds, interrupted };
  } finally {
    events.close();
    testMetrics.dispose();
    trainMetrics.dispose();
    uploader.dispose();
    optimiser.dispose();
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
