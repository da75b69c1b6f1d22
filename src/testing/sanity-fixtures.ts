/**
 * @file Helpers for the Grad-CAM tests (not part of the library): the fastest backend at hand,
 * a synthetic dataset whose class is written in a small patch, and a few epochs of training.
 */
import type { Backend } from '../core/backend.js';
import { Tensor } from '../core/tensor.js';
import { createBackend } from '../backends/index.js';
import { Normaliser } from '../data/batch.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { Sfc32 } from '../core/random.js';
import { epochPermutation } from '../data/prng.js';
import { ResNet9 } from '../nn/resnet9.js';
import { parametersOf } from '../nn/network.js';
import { Sgd } from '../optim/sgd.js';
import { oneCycle } from '../optim/schedule.js';
import type { CheckpointMeta } from '../train/checkpoint.js';
import { trainStep } from '../train/step.js';

/**
 * The native CPU backend when it loads, else the (slow, pure TypeScript) reference backend.
 * KILOSECOND_TEST_BACKEND=reference (or another name) forces one, to time the tests on it.
 */
export async function fastestCpuBackend(): Promise<Backend> {
  const forced = process.env['KILOSECOND_TEST_BACKEND'];
  if (forced) return createBackend(forced);
  try {
    return await createBackend('cpu');
  } catch {
    return createBackend('reference');
  }
}

export interface Box {
  top: number;
  left: number;
  size: number;
}

/** A labelled image set with, for each image, where its discriminative patch is. */
export interface PlantedSet {
  info: DatasetInfo;
  set: ImageSet;
  /** The patch of each image; undefined for the patch-free class. */
  patches: Array<Box | undefined>;
}

const SIDE = 32;
const PATCH = 6;

/**
 * Grey noise (pixel values 70..185) with, at a random position, a white (255) 6x6 patch for
 * class 0, a black (0) one for class 1, and none for class 2. Nothing outside the patch says
 * anything about the class. The patch-free class matters: with two classes a model may call
 * "black" whatever has no white patch and never look at the black one; with three, it must
 * find both patches to tell them from plain noise.
 */
export function plantedPatchSet(count: number, seed: number): PlantedSet {
  const rng = new Sfc32(seed, 0x9a7c4, 0x2545f491, count);
  const images = new Uint8Array(count * SIDE * SIDE);
  const labels = new Uint8Array(count);
  const patches: Array<Box | undefined> = [];
  for (let i = 0; i < count; i++) {
    const image = images.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE);
    for (let p = 0; p < image.length; p++) image[p] = 70 + rng.nextInt(116);
    const label = i % 3;
    labels[i] = label;
    if (label === 2) {
      patches.push(undefined);
      continue;
    }
    const box = { top: rng.nextInt(SIDE - PATCH + 1), left: rng.nextInt(SIDE - PATCH + 1), size: PATCH };
    for (let y = box.top; y < box.top + PATCH; y++) image.fill(label === 0 ? 255 : 0, y * SIDE + box.left, y * SIDE + box.left + PATCH);
    patches.push(box);
  }
  const info: DatasetInfo = {
    name: 'planted patches',
    classes: ['white patch', 'black patch', 'no patch'],
    height: SIDE, width: SIDE, channels: 1, mean: [0.5], std: [0.2], padMode: 'zero', augmentSides: { pad: 0, cutout: 0 }, flip: true, trainCount: 0, testCount: count,
  };
  return { info, set: { images, labels, count, height: SIDE, width: SIDE, channels: 1 }, patches };
}

/** Checkpoint metadata describing a model trained on `info`. */
export function metaFor(info: DatasetInfo, width: number): CheckpointMeta {
  return {
    architecture: 'resnet9', dataset: info.name, classes: info.classes, inChannels: info.channels, width,
    mean: info.mean, std: info.std, inputSize: [info.height, info.width],
  };
}

export interface TrainOptions {
  width: number;
  epochs: number;
  batchSize: number;
  /** Peak learning rate of the one-cycle schedule. */
  lr: number;
  seed: number;
}

/**
 * A ResNet-9 trained on `set` with the recipe's optimiser (no augmentation, no label smoothing).
 * Not src/train/trainer.ts: that trains a dataset by name, and these sets live only in memory.
 */
export function trainModel(backend: Backend, info: DatasetInfo, set: ImageSet, o: TrainOptions): ResNet9 {
  const model = new ResNet9(backend, { inChannels: set.channels, classes: info.classes.length, width: o.width }, o.seed);
  const optimiser = new Sgd(parametersOf(model), { momentum: 0.9, weightDecay: 5e-4, nesterov: true });
  const stepsPerEpoch = Math.floor(set.count / o.batchSize);
  const lr = oneCycle({ peak: o.lr, peakEpoch: 5, epochs: o.epochs, stepsPerEpoch });
  const normaliser = new Normaliser(info.mean, info.std);
  const imageSize = set.height * set.width * set.channels;
  const pixels = new Float32Array(o.batchSize * imageSize);
  const labels = new Float32Array(o.batchSize);
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = epochPermutation(set.count, o.seed, epoch);
      for (let step = 0; step < stepsPerEpoch; step++) {
        for (let k = 0; k < o.batchSize; k++) {
          const index = order[step * o.batchSize + k]!;
          normaliser.normalise(set.images, index * imageSize, imageSize, pixels, k * imageSize);
          labels[k] = set.labels[index]!;
        }
        const batch = {
          images: Tensor.fromArray(backend, [o.batchSize, set.height, set.width, set.channels], pixels),
          labels: Tensor.fromArray(backend, [o.batchSize], labels),
        };
        try {
          trainStep(model, optimiser, batch, lr(epoch * stepsPerEpoch + step), 0);
        } finally {
          batch.images.dispose();
          batch.labels.dispose();
        }
      }
    }
  } finally {
    optimiser.dispose();
  }
  return model;
}
