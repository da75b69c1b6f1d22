/**
 * @file Training batches made from images in memory: shuffled by the seed, augmented as asked,
 * normalised. The same batches in a loader's worker thread, in the caller's thread, and in a
 * browser worker: nothing here needs Node.
 */
import { augmentImage, defaultAugment, meanPixel, validateAugment, type AugmentConfig } from './augment.js';
import { allocateBatch, batchCount, batchRange, Normaliser, type Batch } from './batch.js';
import type { DatasetInfo, ImageSet } from './datasets.js';
import { epochPermutation } from './prng.js';

/** What every batch source is told: the batch, and how its images are normalised. */
export interface CommonSpec {
  batchSize: number;
  dropLast: boolean;
  mean: number[];
  std: number[];
  classes: number;
}

export type OnlineSpec = CommonSpec & { kind: 'online'; images: Uint8Array; labels: Uint8Array; count: number; height: number; width: number; channels: number; augment: AugmentConfig; seed: number };

export class OnlineSource {
  private readonly normaliser: Normaliser;
  private readonly fill: Uint8Array;
  private readonly imageSize: number;
  private readonly scratch: Uint8Array;
  private order: { epoch: number; permutation: Uint32Array } | undefined;

  constructor(private readonly spec: OnlineSpec) {
    this.normaliser = new Normaliser(spec.mean, spec.std);
    this.fill = meanPixel(spec.mean);
    this.imageSize = spec.height * spec.width * spec.channels;
    this.scratch = new Uint8Array(this.imageSize);
  }

  batches(): number {
    return batchCount(this.spec.count, this.spec.batchSize, this.spec.dropLast);
  }

  private permutation(epoch: number): Uint32Array {
    if (this.order?.epoch !== epoch) this.order = { epoch, permutation: epochPermutation(this.spec.count, this.spec.seed, epoch) };
    return this.order.permutation;
  }

  produce(epoch: number, b: number): Batch {
    const s = this.spec;
    const [from, to] = batchRange(b, s.batchSize, s.count);
    const order = this.permutation(epoch);
    const batch = allocateBatch(to - from, this.imageSize);
    for (let k = 0; k < to - from; k++) {
      const index = order[from + k]!;
      augmentImage(s.augment, s.seed, epoch, index, s.images, s.height, s.width, s.channels, this.scratch, 0, this.fill);
      this.normaliser.normalise(this.scratch, 0, this.imageSize, batch.images, k * this.imageSize);
      batch.labels[k] = s.labels[index]!;
    }
    return batch;
  }
}

/**
 * `fit`'s batches from a training set in memory: each epoch shuffled (by `seed` and the epoch),
 * augmented (default: DavidNet's crop, flip and cutout; `noAugment` for none) and normalised as
 * `info` says; the last partial batch is dropped. Epoch e holds the same images as a loader's
 * epoch e with the same seed and augmentation.
 */
export function inMemoryBatches(train: ImageSet, info: DatasetInfo, o: { batchSize: number; augment?: AugmentConfig; seed?: number }): (epoch: number) => Iterable<Batch> {
  const source = new OnlineSource({
    kind: 'online', batchSize: o.batchSize, dropLast: true, mean: info.mean, std: info.std, classes: info.classes.length,
    images: train.images, labels: train.labels, count: train.count, height: train.height, width: train.width, channels: train.channels,
    augment: validateAugment(o.augment ?? { ...defaultAugment }, train.height, train.width), seed: o.seed ?? 0,
  });
  return function* (epoch) {
    for (let b = 0; b < source.batches(); b++) yield source.produce(epoch, b);
  };
}
