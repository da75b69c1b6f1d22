/**
 * @file `fit`: the epoch loop, for any network, optimiser, schedule and batches, with no file
 * system in it (it runs in a browser worker as in Node).
 *
 * Each epoch trains on the batches `batches(epoch)` yields (in memory or streamed), then
 * evaluates on the test set; what happens around it comes through `FitHooks`, in the order Keras
 * callbacks and Lightning hooks have taught users: `train` plugs its run recorder (metrics files,
 * TensorBoard, checkpoints, training state) in as one such hook.
 *
 *   const result = await fit({ model, optimiser, schedule: (step) => 0.1, epochs: 4, stepsPerEpoch,
 *     batches: (epoch) => shuffledBatches(train, info, 64, epoch), test, info });
 */
import type { Tensor } from '../core/tensor.js';
import { type Batch, testBatches } from '../data/batch.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import type { Network } from '../nn/network.js';
import type { Sgd } from '../optim/sgd.js';
import { type BudgetWatch, replanIfLate } from './budget-watch.js';
import type { Replan } from './budget.js';
import { CompressedSchedule } from './compressed-schedule.js';
import { BatchUploader, confusionMatrix, evaluate } from './evaluate.js';
import { nothingAround, type RecipeSession } from './recipes.js';
import { DeviceMetrics, recalibrateBatchNorm, trainStep, type DeviceBatch } from './step.js';
import type { TestTimeAugmentation } from './tta.js';

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

/** Where the epoch loop starts: from nothing, or from a resumed run's last finished epoch. */
export interface FitStart { history: EpochRecord[]; learningRates: number[]; trainSeconds: number; evalSeconds: number }

/**
 * The run so far, after an epoch: `complete` is false for an epoch stopped part-way;
 * `recipeState` is what the recipe's session keeps besides the model and optimiser.
 */
export interface FitProgress extends FitStart { complete: boolean; recipeState: readonly Tensor[] }

export interface FitHooks {
  /** Before epoch `epoch` (0-based) of `epochs`, the count the schedule holds now. */
  onEpochStart?(epoch: number, epochs: number): void;
  onStep?(epoch: number, step: number, steps: number, lr: number): void;
  /** Running training accuracy and loss of the epoch so far, read back a few times per epoch, after `step` of its steps. */
  onRunningMetrics?(epoch: number, accuracy: number, loss: number, step: number): void;
  /** A budget's plan no longer fit (or fit with time to spare) and the rest of the schedule was re-shaped. */
  onReplan?(replan: Replan): void;
  /** After an epoch's evaluation; awaited, so a hook that saves the epoch finishes before the next starts. */
  onEpoch?(record: EpochRecord, progress: FitProgress, epochs: number): void | Promise<void>;
  /** Polled between steps: true stops training after the current step. */
  shouldStop?(): boolean;
}

export interface FitOptions {
  model: Network;
  optimiser: Sgd;
  /** The learning rate at step 0, 1, ... of `epochs * stepsPerEpoch` (a recipe's `schedule`). */
  schedule: (step: number) => number;
  epochs: number;
  stepsPerEpoch: number;
  /** Epoch `epoch`'s training batches, normalised as `info` says; at most `stepsPerEpoch` are taken. */
  batches: (epoch: number) => Iterable<Batch> | AsyncIterable<Batch>;
  /** Evaluated after every epoch, with the final epoch's test-time augmentation. */
  test: ImageSet;
  /** The images' shape and normalisation (the test set is normalised with it). */
  info: DatasetInfo;
  labelSmoothing?: number;
  /** Default 500. */
  evalBatchSize?: number;
  /** Test-time augmentation at the final evaluation (default none). */
  finalTta?: TestTimeAugmentation;
  /** Before the final evaluation, the batch-norm statistics re-estimated over `batches` batches of `set`. */
  recalibrate?: { set: ImageSet; batches: number; batchSize: number };
  /** What the recipe does around the steps (the fast recipe's weight average); default nothing. */
  session?: RecipeSession;
  /** A resumed run's history so far; default a fresh start. */
  start?: FitStart;
  /** Where a budget's plan ends the schedule (its last epoch cut short), and the re-plans made so far. */
  plannedSteps?: number;
  replans?: Replan[];
  /** Watch a budget as the steps go, re-planning the rest of the schedule when the pace says so. */
  budget?: BudgetWatch;
  /** Milliseconds, as performance.now() counts them. */
  now?: () => number;
}

export interface FitResult extends FitStart {
  /** Stopped by `shouldStop` before the schedule's end. */
  interrupted: boolean;
  /** The final model's test predictions: counts[true class][predicted class] (without test-time augmentation). */
  confusion: number[][];
}

export async function fit(o: FitOptions, hooks: FitHooks = {}): Promise<FitResult> {
  const now = o.now ?? (() => performance.now());
  const since = (t: number): number => (now() - t) / 1000;
  const { model, optimiser, info, test, stepsPerEpoch } = o;
  const backend = model.backend;
  const uploader = new BatchUploader(backend, info);
  const trainMetrics = new DeviceMetrics(backend);
  const testMetrics = new DeviceMetrics(backend);
  const evalBatchSize = o.evalBatchSize ?? 500;
  const readEvery = Math.max(1, Math.ceil(stepsPerEpoch / 8));
  const session = o.session ?? nothingAround;
  // The planned schedule, with the re-plans made so far (a resumed run's included) applied again.
  const schedule = new CompressedSchedule(o.epochs * stepsPerEpoch);
  // A plan's last epoch may be cut short: its schedule is compressed into the planned steps from the start.
  if (o.plannedSteps !== undefined && o.plannedSteps < schedule.plannedSteps) schedule.compress(0, o.plannedSteps);
  const replans = o.replans ?? [];
  for (const r of replans) schedule.compress(r.after_step, r.steps_after);
  const epochsNow = (): number => Math.ceil(schedule.totalSteps / stepsPerEpoch);
  const recentSteps: number[] = [];
  const history = [...(o.start?.history ?? [])];
  const learningRates = [...(o.start?.learningRates ?? [])];
  let trainSeconds = o.start?.trainSeconds ?? 0;
  let evalSeconds = o.start?.evalSeconds ?? 0;
  let interrupted = false;
  try {
    for (let epoch = history.length; epoch * stepsPerEpoch < schedule.totalSteps && !interrupted; epoch++) {
      hooks.onEpochStart?.(epoch, epochsNow());
      trainMetrics.reset();
      const start = now();
      // A step time is measured within an epoch: the pause for evaluation is not a slow step.
      recentSteps.length = 0;
      let waited = 0;
      let step = 0;
      let lr = 0;
      session.startEpoch(epoch);
      const batches = toAsyncIterator(o.batches(epoch));
      try {
        for (;;) {
          if (epoch * stepsPerEpoch + step >= schedule.totalSteps || step >= stepsPerEpoch) break;
          const waitStart = now();
          const next = await batches.next();
          waited += since(waitStart);
          if (next.done) break;
          lr = o.schedule(schedule.position(epoch * stepsPerEpoch + step));
          learningRates.push(lr);
          trainStep(model, optimiser, uploader.upload(next.value), lr, o.labelSmoothing ?? 0, trainMetrics);
          step++;
          if (o.budget) {
            recentSteps.push(now());
            const replan = replanIfLate(o.budget, schedule, epoch * stepsPerEpoch + step, recentSteps, stepsPerEpoch, since);
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
            const [e, s] = [epoch, step];
            void trainMetrics.read().then((m) => hooks.onRunningMetrics?.(e, m.accuracy, m.loss, s), () => undefined);
          }
          if (hooks.shouldStop?.()) {
            interrupted = true;
            break;
          }
        }
      } finally {
        // Stopped early (a stop, or a step threw): a streaming source must drop the batches it read ahead.
        await batches.return?.(undefined);
      }
      const trained = await trainMetrics.read(); // waits for the epoch's queued work
      const epochTrainSeconds = since(start);
      trainSeconds += epochTrainSeconds;
      const evalStart = now();
      const last = (epoch + 1) * stepsPerEpoch >= schedule.totalSteps || interrupted;
      if (last) session.finish();
      const recalibrated = last && o.recalibrate ? Math.min(o.recalibrate.batches, Math.floor(o.recalibrate.set.count / o.recalibrate.batchSize)) : 0;
      if (recalibrated > 0) {
        const { set, batchSize } = o.recalibrate!;
        // Lazily: the uploader reuses one device tensor per batch size, so each batch must be
        // consumed before the next is written.
        const uploads = function* (): Iterable<DeviceBatch> {
          for (const b of take(testBatches(set, info, batchSize), recalibrated)) yield uploader.upload(b);
        };
        recalibrateBatchNorm(model, uploads());
      }
      // Test-time augmentation at the final evaluation only: it multiplies an evaluation's cost.
      const tta = last ? o.finalTta ?? 'none' : 'none';
      const tested = await evaluate(model, test, info, { batchSize: evalBatchSize, tta }, uploader, testMetrics);
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
      await hooks.onEpoch?.(record, { history, learningRates, trainSeconds, evalSeconds, complete: !interrupted, recipeState: session.state() }, epochsNow());
    }
    // The final model's mistakes by class: one more pass over the test set, counted as evaluation.
    const confusionStart = now();
    const confusion = history.length > 0 ? await confusionMatrix(model, test, info, evalBatchSize, uploader) : [];
    evalSeconds += since(confusionStart);
    return { history, learningRates, trainSeconds, evalSeconds, interrupted, confusion };
  } finally {
    session.dispose();
    testMetrics.dispose();
    trainMetrics.dispose();
    uploader.dispose();
  }
}

function toAsyncIterator<T>(items: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
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
