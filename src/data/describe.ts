/**
 * @file What a set of images in memory is, as training needs to know it (`DatasetInfo`): its
 * shape, its classes, the per-channel normalisation of its training split, and the augmentation
 * defaults for photos. An image folder's loader and the web page describe their images with it,
 * and a library caller of `fit` with arrays of its own.
 */
import { recipeSidesFor } from './augment.js';
import type { DatasetInfo, ImageSet } from './datasets.js';

/** Per-channel mean and std of the images on the 0..1 scale. */
export function channelStats(images: Uint8Array, channels: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels);
  const squares = new Float64Array(channels);
  for (let i = 0; i < images.length; i++) {
    const v = images[i]! / 255;
    sum[i % channels] += v;
    squares[i % channels] += v * v;
  }
  const n = images.length / channels;
  const mean = [...sum].map((s) => s / n);
  // A constant channel would divide by zero when normalising: its std is taken as 1.
  const std = [...squares].map((q, c) => Math.sqrt(Math.max(0, q / n - mean[c]! ** 2)) || 1);
  return { mean, std };
}

/** Photos (or anything not a built-in dataset): normalised by the training split's own statistics. */
export function describeImages(o: { name: string; classes: string[]; train: ImageSet; test: ImageSet }): DatasetInfo {
  const { train, test } = o;
  const { mean, std } = channelStats(train.images, train.channels);
  return {
    name: o.name,
    classes: o.classes,
    height: train.height,
    width: train.width,
    channels: train.channels,
    mean,
    std,
    // Photos: mirror the edge, as Page did for CIFAR-10, rather than add black borders.
    padMode: 'reflect',
    augmentSides: recipeSidesFor(Math.min(train.height, train.width)),
    // Photos of objects, as CIFAR-10's: a mirror image is still of its class.
    flip: true,
    trainCount: train.count,
    testCount: test.count,
  };
}
