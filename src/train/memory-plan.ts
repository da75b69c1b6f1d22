/**
 * @file Memory a run can have: what a training step of a candidate holds at a batch size
 * (measured at the planner's quarter batch and carried to others), and the largest batch that
 * fits what this machine has free, so that a run on a machine with too little memory trains a
 * smaller batch or is refused before training, never killed mid-run. Pure functions: the caller
 * says how much memory is available (Node: host-memory.ts).
 */
import { msg, setting, UserError } from '../core/errors.js';
import type { StepMeasurement } from './budget.js';
import type { RecipeName } from './recipes.js';

/** What a training step holds in the backend: a part that does not grow with the batch (the model, its gradients and momenta) and a part per image (activations, their gradients). */
export interface StepMemory {
  fixedBytes: number;
  bytesPerImage: number;
}

/** Memory a run may still take, and where the figure comes from (read together, so a message names the limit its figure is from). */
export interface MemoryAvailable {
  /** Bytes this process may still take before the machine (or the limit asked) runs out; negative where it already holds more than a limit. */
  bytes: number;
  /** For messages: "this machine's free memory", "the limit of 2 GB asked". */
  source: string;
}

/** Where the planner learns how much memory a run may take. */
export interface MemoryProbe {
  available(): MemoryAvailable;
}

/**
 * Bytes a step must leave free besides the backend's own: a margin of 15% on the measurement
 * (the allocator rounds, Node's heap grows with the run's records) and 256 MB for what the
 * backend does not count (the loader's shards being read, the final evaluation's confusion
 * matrix and reports). The fast recipe on CIFAR-10 holds 2.4 GB in its steps and 2.9 GB in all.
 */
const margin = 1.15;
const reserveBytes = 256 * 2 ** 20;

/** Bytes a run of `memory` at `batch` needs free, margin and reserve included. */
export function bytesNeeded(memory: StepMemory, batch: number): number {
  return margin * (memory.fixedBytes + memory.bytesPerImage * batch) + reserveBytes;
}

/**
 * The fewest images per step the planner lowers a recipe's batch to, as a fraction of the
 * recipe's: an eighth (the fast recipe's 1024 to 128, the DAWNBench recipe's 512 to 64), its rate
 * scaled by the square root of the batch's shrinking (fit-recipe.ts, scaledToBatch).
 */
export const smallestBatchShare = 1 / 8;

/** The largest batch, `batch` halved as often as needed down to its smallest share, that fits `availableBytes`; undefined when none does. */
export function batchThatFits(memory: StepMemory, batch: number, availableBytes: number): number | undefined {
  const smallest = Math.max(1, Math.floor(batch * smallestBatchShare));
  for (let b = batch; b >= smallest; b = Math.floor(b / 2)) {
    if (bytesNeeded(memory, b) <= availableBytes) return b;
    if (b === 1) break;
  }
  return undefined;
}

const gigabytes = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GB`;

/** Why a batch was lowered, in one sentence (printed before training). */
function lowerBatchReason(memory: StepMemory, asked: number, chosen: number, available: MemoryAvailable): string {
  return `batch ${chosen} instead of ${asked}: a step at ${asked} needs about ${gigabytes(bytesNeeded(memory, asked))} and ${available.source} leaves ${gigabytes(available.bytes)}; at ${chosen} it needs ${gigabytes(bytesNeeded(memory, chosen))}`;
}

/** A batch that fits the memory available, and why it is not the recipe's. */
export interface BatchInMemory { batchSize: number; reason?: string }

/**
 * The batch a measured candidate trains with in `available` bytes: its own where it fits (or
 * its memory was not measured), else the largest fraction of it that fits; undefined when none does.
 */
export function batchInMemory(m: StepMeasurement, batchSize: number, available: MemoryAvailable): BatchInMemory | undefined {
  if (!m.memory) return { batchSize };
  const fits = batchThatFits(m.memory, batchSize, available.bytes);
  if (fits === undefined) return undefined;
  if (fits === batchSize) return { batchSize };
  return { batchSize: fits, reason: lowerBatchReason(m.memory, batchSize, fits, available) };
}

/** The refusal when no candidate fits at its smallest batch: what the least of them needs, and what to do. */
export function notEnoughMemoryFor(
  candidates: ReadonlyArray<{ recipe: RecipeName; batchSize: number; measurement: StepMeasurement }>, available: MemoryAvailable,
): UserError {
  const needs = candidates.map((c) => ({ c, bytes: bytesNeeded(c.measurement.memory!, Math.max(1, Math.floor(c.batchSize * smallestBatchShare))) }));
  const least = needs.reduce((a, b) => (b.bytes < a.bytes ? b : a));
  return new UserError(msg`not enough memory to train here: the ${least.c.recipe} recipe at width ${least.c.measurement.width} needs about ${gigabytes(least.bytes)} at its smallest batch, and ${available.source} leaves ${gigabytes(available.bytes)}. Close other programs, give a smaller ${setting('width')}, or raise ${setting('maxMemoryGb')} if you set it.`);
}
