/**
 * @file What a run needs to go on after it was stopped or killed: after every finished epoch,
 * `train-state.safetensors` in the run folder holds the whole state (the model's tensors, the
 * optimiser's momenta) and, in its metadata, the settings, the plan, the epochs done and their
 * metrics. One file, written to a temporary name and renamed, so it is always one consistent
 * epoch, whatever moment the process died at. Everything else (data order, augmentation, the
 * learning rate) is a function of the seed and the epoch, so a resumed run trains exactly as
 * an uninterrupted one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { msg, setting, UserError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Network } from '../nn/network.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors-file.js';
import { requireF32, type SafeTensor } from '../nn/safetensors.js';
import { loadStateDict, stateDict } from '../nn/state-dict.js';
import type { Sgd } from '../optim/sgd.js';
import type { BudgetPlan } from './budget.js';
import type { Precision } from '../core/precision.js';

export const trainStateFile = 'train-state.safetensors';

const momentumPrefix = 'optimizer.momentum.';
/** The recipe session's own tensors (RecipeSession.state), by index. */
const recipeStatePrefix = 'recipe.state.';

/** Everything but the tensors. */
export interface TrainProgress {
  /** The settings the run was started with, as the trainer got them. */
  settings: Record<string, unknown>;
  width: number;
  plannedEpochs: number;
  trainedEpochs: number;
  plan: BudgetPlan | null;
  /** The precision the run trains in ('auto' resolved); absent in states saved before it was a setting (float32). */
  precision?: Precision;
  /** metrics.jsonl's records so far. */
  history: unknown[];
  learningRates: number[];
  /** Seconds spent so far, per phase. */
  seconds: { data_preparation: number; calibration: number; training: number; evaluation: number };
}

export async function saveTrainState(dir: string, model: Network, optimiser: Sgd, progress: TrainProgress, recipeState: readonly Tensor[]): Promise<void> {
  const tensors = await stateDict(model);
  const names = model.namedParameters().map(([name]) => name);
  const momenta = optimiser.momenta();
  for (let i = 0; i < momenta.length; i++) {
    // Momenta stay in the device layout: they go back to the same kind of tensor.
    const m = momenta[i]!;
    tensors.set(`${momentumPrefix}${names[i]}`, { dtype: 'F32', shape: [...m.shape], data: await m.read() } satisfies SafeTensor);
  }
  for (const [i, t] of recipeState.entries()) tensors.set(`${recipeStatePrefix}${i}`, { dtype: 'F32', shape: [...t.shape], data: await t.read() } satisfies SafeTensor);
  writeSafetensors(join(dir, trainStateFile), tensors, { format: 'kilosecond-train-state', progress: JSON.stringify(progress) });
}

/** The progress recorded in a run folder, without loading any tensor onto a device. */
export function readTrainProgress(dir: string): TrainProgress {
  const path = join(dir, trainStateFile);
  if (!existsSync(path)) {
    throw new UserError(msg`${dir}: no ${trainStateFile}; it is not a run folder, or its run stopped before training began (start it again, without ${setting('resume')})`);
  }
  const file = readSafetensors(path);
  if (file.metadata.format !== 'kilosecond-train-state' || !file.metadata.progress) throw new UserError(`${path}: not a kilosecond training state`);
  return JSON.parse(file.metadata.progress) as TrainProgress;
}

/** Puts the saved tensors into a model and optimiser built with the run's settings. */
export function restoreTrainState(dir: string, model: Network, optimiser: Sgd): void {
  const path = join(dir, trainStateFile);
  const file = readSafetensors(path);
  const weights = new Map([...file.tensors].filter(([name]) => !name.startsWith(momentumPrefix) && !name.startsWith(recipeStatePrefix)));
  loadStateDict(model, weights, path);
  const params = model.namedParameters();
  optimiser.loadMomenta(params.map(([name, t]) => requireF32(file, `${momentumPrefix}${name}`, path, [...t.shape])));
}

/**
 * Puts the saved recipe-session tensors back (RecipeSession.state). A state saved before the
 * session's tensors were (or by a recipe with none) leaves them as the session made them.
 */
export function restoreRecipeState(dir: string, recipeState: readonly Tensor[]): void {
  const path = join(dir, trainStateFile);
  const file = readSafetensors(path);
  if (!file.tensors.has(`${recipeStatePrefix}0`)) return;
  for (const [i, t] of recipeState.entries()) t.write(requireF32(file, `${recipeStatePrefix}${i}`, path, [...t.shape]));
}
