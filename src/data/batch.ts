/**
 * @file The engine's input tensors and the one place pixels become them.
 *
 * A batch is float32 NHWC (channels last): exactly the HWC byte order of the stored images, each
 * byte mapped to (pixel / 255 - mean[c]) / std[c]. Every path (test batches, online augmentation,
 * precomputed shards) goes through `Normaliser`, so train and test see identical arithmetic.
 *
 * 28x28 images stay 28x28: the feature maps go 28 -> 14 -> 7 -> 3 and the network ends in a
 * global max pool, so no padding to 32 is needed, at train or test time.
 */
import type { DatasetInfo, ImageSet } from './datasets.js';

export interface Batch {
  /** n * h * w * c normalised values, NHWC. */
  images: Float32Array;
  /** n class indices. */
  labels: Float32Array;
  size: number;
}

/** Per-channel normalisation through a 256-entry table per channel: a lookup instead of a divide. */
export class Normaliser {
  readonly channels: number;
  private readonly table: Float32Array;

  constructor(mean: readonly number[], std: readonly number[]) {
    this.channels = mean.length;
    this.table = new Float32Array(256 * this.channels);
    for (let c = 0; c < this.channels; c++) {
      for (let v = 0; v < 256; v++) this.table[c * 256 + v] = (v / 255 - mean[c]!) / std[c]!;
    }
  }

  /** Normalises `count` bytes of HWC pixels from src[srcOffset] into dst[dstOffset]. */
  normalise(src: Uint8Array, srcOffset: number, count: number, dst: Float32Array, dstOffset: number): void {
    const t = this.table;
    if (this.channels === 1) {
      for (let i = 0; i < count; i++) dst[dstOffset + i] = t[src[srcOffset + i]!]!;
    } else if (this.channels === 3) {
      for (let i = 0; i < count; i += 3) {
        const s = srcOffset + i;
        const d = dstOffset + i;
        dst[d] = t[src[s]!]!;
        dst[d + 1] = t[256 + src[s + 1]!]!;
        dst[d + 2] = t[512 + src[s + 2]!]!;
      }
    } else {
      for (let i = 0; i < count; i++) dst[dstOffset + i] = t[(i % this.channels) * 256 + src[srcOffset + i]!]!;
    }
  }
}

/** A fresh batch of `size` images of `imageSize` values each. */
export function allocateBatch(size: number, imageSize: number): Batch {
  return { images: new Float32Array(size * imageSize), labels: new Float32Array(size), size };
}

/** How many batches an epoch of `count` images makes. */
export function batchCount(count: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** The slice of an epoch that batch `b` covers. */
export function batchRange(b: number, batchSize: number, count: number): [number, number] {
  const from = b * batchSize;
  return [from, Math.min(count, from + batchSize)];
}

/** Test-time batches in order, not augmented, the last one partial. */
export function* testBatches(set: ImageSet, info: DatasetInfo, batchSize: number): Iterable<Batch> {
  const normaliser = new Normaliser(info.mean, info.std);
  const imageSize = set.height * set.width * set.channels;
  for (let from = 0; from < set.count; from += batchSize) {
    const size = Math.min(batchSize, set.count - from);
    const batch = allocateBatch(size, imageSize);
    normaliser.normalise(set.images, from * imageSize, size * imageSize, batch.images, 0);
    for (let k = 0; k < size; k++) batch.labels[k] = set.labels[from + k]!;
    yield batch;
  }
}
