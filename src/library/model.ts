/**
 * @file A trained model for programs: `loadModel(checkpoint)`, then predict, evaluate and explain
 * on images already in memory (uint8 HWC, as datasets load them), with the checkpoint's own
 * normalisation and the forward pass in eval mode, exactly as `kilosecond predict`, `eval` and
 * `explain` do; then `dispose`.
 */
import { createBackend } from '../backends/index.js';
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Normaliser } from '../data/batch.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { gradCam } from '../explain/gradcam.js';
import type { Network } from '../nn/network.js';
import { trainedViews, ttaFor } from '../train/tta.js';
import { inferenceBatchSize, predictBatch, type ImagePrediction } from '../predict/predict.js';
import { loadCheckpoint, type CheckpointMeta } from '../train/checkpoint.js';
import { BatchUploader, evaluate as evaluateTestSet } from '../train/evaluate.js';
import { DeviceMetrics } from '../train/step.js';
import { recipe } from '../train/settings.js';

/** `count` images of height * width * channels bytes each, HWC: an `ImageSet` without labels. */
export type Images = Omit<ImageSet, 'labels'>;

export interface LoadModelOptions {
  /** A backend's name as `createBackend` takes it (default 'cpu'), or a backend the caller created, keeps and disposes. */
  backend?: string | Backend;
}

/** Where the model looks when it picks a class (Grad-CAM on layer3). */
export interface ImageExplanation {
  /** The class the map explains: the prediction, unless `target` was given. */
  target: string;
  predicted: string;
  /** height * width values in 0..1, row-major, at the model's input size. */
  map: Float32Array;
}

export interface Model {
  /** What the checkpoint records: classes, input size, channels, normalisation, training config. */
  readonly meta: CheckpointMeta;
  /** Per image, the `topK` most probable classes (default: all, best first) and the logits. */
  predict(images: Images, o?: { topK?: number; batchSize?: number }): Promise<ImagePrediction[]>;
  /** Accuracy, mean (unsmoothed) cross-entropy and image count over a labelled set; `tta` averages with the mirror images. */
  evaluate(test: ImageSet, o?: { batchSize?: number; tta?: boolean }): Promise<{ accuracy: number; loss: number; count: number }>;
  /** Grad-CAM of each image, for its predicted class or for class `target`. */
  explain(images: Images, o?: { target?: string; batchSize?: number }): Promise<ImageExplanation[]>;
  /** Frees the weights, and the backend when loadModel created it. */
  dispose(): void;
}

/**
 * Loads a checkpoint written by `train` (model.safetensors) onto a backend. The caller disposes
 * the model.
 */
export async function loadModel(path: string, o: LoadModelOptions = {}): Promise<Model> {
  const ownsBackend = typeof o.backend !== 'object';
  const backend = typeof o.backend === 'object' ? o.backend : await createBackend(o.backend ?? recipe.backend);
  try {
    const { model, meta } = loadCheckpoint(path, backend);
    return modelOf(model, meta, () => {
      model.dispose();
      if (ownsBackend) backend.dispose();
    });
  } catch (err) {
    if (ownsBackend) backend.dispose();
    throw err;
  }
}

function modelOf(model: Network, meta: CheckpointMeta, release: () => void): Model {
  let disposed = false;
  const usable = (what: string): void => {
    if (disposed) throw new UserError(`${what}: the model was disposed`);
  };
  return {
    meta,

    async predict(images, o = {}) {
      usable('predict');
      const out: ImagePrediction[] = [];
      for (const batch of normalisedBatches(images, meta, o.batchSize ?? inferenceBatchSize, 'predict')) {
        out.push(...await predictBatch(model, meta.classes, batch.input, batch.shape, o.topK ?? meta.classes.length));
      }
      return out;
    },

    async evaluate(test, o = {}) {
      usable('evaluate');
      checkImages(test, meta, 'evaluate');
      if (test.labels.length < test.count) throw new UserError(`evaluate: ${test.labels.length} labels for ${test.count} images`);
      const bad = test.labels.subarray(0, test.count).findIndex((l) => l >= meta.classes.length);
      if (bad >= 0) throw new UserError(`evaluate: image ${bad} has label ${test.labels[bad]}, but the model has ${meta.classes.length} classes`);
      const [height, width] = meta.inputSize;
      // The model's own shape, normalisation and classes; evaluation reads no augmentation setting and no count.
      const info: DatasetInfo = {
        name: meta.dataset, classes: meta.classes, height, width, channels: meta.inChannels, mean: meta.mean, std: meta.std,
        padMode: 'zero', augmentSides: { pad: 0, cutout: 0 }, flip: false, trainCount: 0, testCount: test.count,
      };
      const batchSize = positiveBatchSize(o.batchSize ?? recipe.evalBatchSize, 'evaluate');
      const uploader = new BatchUploader(model.backend, info);
      const metrics = new DeviceMetrics(model.backend);
      try {
        return await evaluateTestSet(model, test, info, { batchSize, tta: ttaFor(meta.architecture, o.tta ?? recipe.tta, trainedViews(meta.config)) }, uploader, metrics);
      } finally {
        metrics.dispose();
        uploader.dispose();
      }
    },

    async explain(images, o = {}) {
      usable('explain');
      const target = o.target === undefined ? undefined : meta.classes.indexOf(o.target);
      if (target === -1) throw new UserError(`explain: target '${o.target}' is not one of the model's classes (${meta.classes.join(', ')})`);
      const out: ImageExplanation[] = [];
      const mapSize = meta.inputSize[0] * meta.inputSize[1];
      for (const batch of normalisedBatches(images, meta, o.batchSize ?? inferenceBatchSize, 'explain')) {
        const tensor = Tensor.fromArray(model.backend, batch.shape, batch.input);
        try {
          const r = await gradCam(model, tensor, target === undefined ? undefined : new Array<number>(batch.shape[0]).fill(target));
          r.targets.forEach((t, i) => out.push({
            target: meta.classes[t]!, predicted: meta.classes[r.predictions[i]!]!, map: r.upsampled.slice(i * mapSize, (i + 1) * mapSize),
          }));
        } finally {
          tensor.dispose();
        }
      }
      return out;
    },

    dispose() {
      if (disposed) return;
      disposed = true;
      release();
    },
  };
}

/** Throws a UserError unless `images` are what the model takes. */
function checkImages(images: Images, meta: CheckpointMeta, what: string): void {
  const [h, w] = meta.inputSize;
  const c = meta.inChannels;
  if (images.height !== h || images.width !== w || images.channels !== c) {
    throw new UserError(
      `${what}: the images are ${images.height}x${images.width} with ${images.channels} channel(s), but the model takes ${h}x${w} with ${c} ` +
        `(open a folder at the model's size: openDataset(dir, { folder: { imageSize: ${h}, channels: ${c} } }))`,
    );
  }
  if (images.images.length < images.count * h * w * c) {
    throw new UserError(`${what}: ${images.count} images of ${h}x${w}x${c} need ${images.count * h * w * c} bytes, got ${images.images.length}`);
  }
}

function positiveBatchSize(batchSize: number, what: string): number {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new UserError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  return batchSize;
}

/** The images in batches, normalised as the model was trained: float32 NHWC and its shape. */
function* normalisedBatches(images: Images, meta: CheckpointMeta, batchSize: number, what: string): Iterable<{ input: Float32Array; shape: [number, number, number, number] }> {
  checkImages(images, meta, what);
  positiveBatchSize(batchSize, what);
  const normaliser = new Normaliser(meta.mean, meta.std);
  const { height, width, channels } = images;
  const imageSize = height * width * channels;
  for (let from = 0; from < images.count; from += batchSize) {
    const n = Math.min(batchSize, images.count - from);
    const input = new Float32Array(n * imageSize);
    normaliser.normalise(images.images, from * imageSize, n * imageSize, input, 0);
    yield { input, shape: [n, height, width, channels] };
  }
}
