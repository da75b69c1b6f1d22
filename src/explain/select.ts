/**
 * @file Which test images a Grad-CAM figure shows: a reproducible, stratified choice.
 *
 * Each class's images are shuffled with their own seeded generator, then the classes take turns
 * (0, 1, ..., k-1, 0, 1, ...), so the first k rows of a figure show one image of every class and
 * the same seed always picks the same images, whatever else changes.
 */
import { msg, setting, UserError } from '../core/errors.js';
import { Stream, rngFor } from '../data/prng.js';

/** How many test images a Grad-CAM figure shows unless told otherwise. */
export const defaultExplainImages = 10;

export interface SelectOptions {
  /** How many images to pick. */
  images: number;
  /** Number of classes; labels must lie in 0..classes-1. */
  classes: number;
  seed: number;
  /** Pick only images of this class. */
  onlyClass?: number;
}

/** Positions in `labels` of the chosen images, in round-robin class order. */
export function selectImages(labels: Uint8Array, o: SelectOptions): number[] {
  if (!Number.isInteger(o.images) || o.images < 1) throw new UserError(msg`${setting('images')} ${o.images}: must be a whole number of at least 1`);
  if (o.images > labels.length) {
    throw new UserError(msg`${setting('images')} ${o.images}: the test set has only ${labels.length} images; ask for at most ${labels.length}`);
  }
  if (o.onlyClass !== undefined && !(Number.isInteger(o.onlyClass) && o.onlyClass >= 0 && o.onlyClass < o.classes)) {
    throw new UserError(msg`${setting('onlyClass')} ${o.onlyClass}: out of range; this dataset has classes 0..${o.classes - 1}`);
  }
  const pools = shuffledIndicesByClass(labels, o.classes, o.seed);
  const turns = o.onlyClass === undefined ? pools : [pools[o.onlyClass]!];
  const available = turns.reduce((sum, pool) => sum + pool.length, 0);
  if (o.images > available) {
    throw new UserError(msg`${setting('images')} ${o.images}: the test set has only ${available} images of class ${o.onlyClass}; ask for at most ${available}`);
  }
  const chosen: number[] = [];
  for (let round = 0; chosen.length < o.images; round++) {
    for (const pool of turns) {
      if (round < pool.length && chosen.length < o.images) chosen.push(pool[round]!);
    }
  }
  return chosen;
}

/** For each class, the positions of its images in a seeded random order (Fisher-Yates). */
function shuffledIndicesByClass(labels: Uint8Array, classes: number, seed: number): number[][] {
  const pools: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((label, i) => {
    const pool = pools[label];
    if (!pool) throw new UserError(`test label ${label} at position ${i} is outside the ${classes} classes; the labels file does not match the dataset`);
    pool.push(i);
  });
  return pools.map((pool, c) => {
    const rng = rngFor(seed, 0, c, Stream.Shuffle);
    for (let i = pool.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool;
  });
}
