/**
 * @file The run folder as training goes: `fit`'s hooks that write `metrics.jsonl`, TensorBoard's
 * event file, the checkpoint (`model.safetensors`) and the training state after every epoch, and
 * that sample the process's peak memory. `train` plugs it in; a library caller of `fit` may too,
 * or write nothing.
 */
import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { msg, setting, UserError } from '../core/errors.js';
import type { Network } from '../nn/network.js';
import type { Sgd } from '../optim/sgd.js';
import { type CheckpointMeta, saveCheckpoint } from './checkpoint.js';
import type { EpochRecord, FitHooks, FitProgress, FitStart } from './fit.js';
import { EventWriter, eventFilePrefix } from './tensorboard.js';
import { saveTrainState, type TrainProgress } from './train-state.js';

export interface RecorderOptions {
  /** The run folder. */
  out: string;
  model: Network;
  optimiser: Sgd;
  /** TensorBoard's points are placed at the step each epoch ends on. */
  stepsPerEpoch: number;
  /** What the checkpoint records besides the weights, once `trainedEpochs` epochs are done. */
  checkpointMeta(trainedEpochs: number): Omit<CheckpointMeta, 'architecture'>;
  /** The training state's record of the run, after the epochs of `progress`. */
  trainProgress(progress: FitProgress): TrainProgress;
}

export class RunRecorder {
  /** Where the model is saved after every epoch: the final epoch's save is the run's model. */
  readonly checkpoint: string;
  /** Epochs the checkpoint holds: a run that dies leaves the last finished one behind. */
  savedEpochs: number;
  private peakRss = 0;

  private constructor(private readonly o: RecorderOptions, private readonly metricsFile: string, private readonly events: EventWriter, savedEpochs: number) {
    this.checkpoint = join(o.out, 'model.safetensors');
    this.savedEpochs = savedEpochs;
  }

  /**
   * Opens the run folder's records at `start`: a fresh run's checkpoint is removed and its state
   * saved before the first epoch (a run killed then resumes as a fresh start with its settings);
   * a resumed run's metrics file may hold an epoch stopped part-way, and starts again from the saved ones.
   */
  static async open(o: RecorderOptions, start: FitStart, resumed: boolean): Promise<RunRecorder> {
    const checkpoint = join(o.out, 'model.safetensors');
    if (!resumed) {
      // A run trained over (overwrite) leaves none of its files behind: TensorBoard would draw
      // the old run's curves under the new one's. A resumed run keeps its earlier sessions' events.
      const stale = (await readdir(o.out)).filter((f) => f.startsWith(eventFilePrefix));
      await Promise.all([checkpoint, ...stale.map((f) => join(o.out, f))].map((f) => rm(f, { force: true })));
    }
    const metricsFile = join(o.out, 'metrics.jsonl');
    await writeFileAtomic(metricsFile, start.history.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const recorder = new RunRecorder(o, metricsFile, new EventWriter(o.out), start.history.length);
    if (!resumed) await recorder.saveEpoch({ ...start, complete: true, recipeState: [] });
    return recorder;
  }

  /** The hooks `fit` calls; `then` runs after each epoch is recorded (the caller's own hooks). */
  hooks(then: FitHooks = {}): FitHooks {
    return {
      ...then,
      onStep: (epoch, step, steps, lr) => {
        this.sampleRss();
        then.onStep?.(epoch, step, steps, lr);
      },
      onEpoch: async (record, progress, epochs) => {
        this.sampleRss();
        await this.recordEpoch(record, progress);
        await then.onEpoch?.(record, progress, epochs);
      },
    };
  }

  /** The largest resident set size seen after a step, an evaluation or `finish`, in MB. */
  get peakRssMb(): number {
    return this.peakRss / 2 ** 20;
  }

  /** After the last pass over the test set. */
  finish(): void {
    this.sampleRss();
  }

  close(): void {
    this.events.close();
  }

  private async recordEpoch(record: EpochRecord, progress: FitProgress): Promise<void> {
    await appendFile(this.metricsFile, `${JSON.stringify(record)}\n`);
    // TensorBoard's x axis is the step: the epoch's end.
    const globalStep = record.epoch * this.o.stepsPerEpoch;
    this.events.scalar('train/loss', record.train_loss, globalStep);
    this.events.scalar('train/accuracy', record.train_accuracy, globalStep);
    this.events.scalar('test/loss', record.test_loss, globalStep);
    this.events.scalar('test/accuracy', record.test_accuracy, globalStep);
    this.events.scalar('learning_rate', record.lr, globalStep);
    this.events.scalar('images_per_second', record.images_per_second, globalStep);
    this.events.flush();
    await this.saveEpoch(progress);
  }

  /** Saves the model, and where the epoch finished, the state a resume goes on from. */
  private async saveEpoch(p: FitProgress): Promise<void> {
    const trainedEpochs = p.history.length;
    if (trainedEpochs > 0) await saveCheckpoint(this.checkpoint, this.o.model, this.o.checkpointMeta(trainedEpochs));
    this.savedEpochs = trainedEpochs;
    // Only a finished epoch can be resumed from: a stopped one is saved for use, not to go on.
    if (p.complete) await saveTrainState(this.o.out, this.o.model, this.o.optimiser, this.o.trainProgress(p), p.recipeState);
  }

  private sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
  }
}

/** Creates the run folder, or says why it cannot be written before any time is spent training. */
export async function ensureWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}`);
    await appendFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new UserError(msg`cannot write to ${setting('out')} ${dir}: ${(err as Error).message}`);
  }
}
