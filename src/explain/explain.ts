/**
 * @file Grad-CAM for chosen test images, for one model or two side by side (e.g. trained with
 * and without augmentation): the maps, the predictions, and the figure that shows them.
 *
 * The CLI (src/cli/explain.ts) only parses options and writes files; everything a test or
 * another command needs to explain a model lives here.
 */
import type { Backend } from '../core/backend.js';
import { msg, setting, UserError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Normaliser } from '../data/batch.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import type { Network } from '../nn/network.js';
import type { SafeTensor } from '../nn/safetensors.js';
import type { PixelImage } from '../report/image-grid.js';
import { inferenceBatchSize } from '../predict/predict.js';
import { loadCheckpoint, type CheckpointMeta } from '../train/checkpoint.js';
import { gradCam } from './gradcam.js';
import { gradcamFigure, type GradcamRow } from './render.js';
import { selectImages } from './select.js';

export interface ModelToExplain {
  /** Column title in the figure, e.g. 'with augmentation'. */
  name: string;
  model: Network;
  meta: CheckpointMeta;
}

export interface ModelExplanation {
  name: string;
  /** The class each map explains. */
  targets: number[];
  predictions: number[];
  /** Maps upsampled to the input and normalised to 0..1, [n, height, width]. */
  cams: Float32Array;
}

export interface Explanation {
  /** Positions of the images in the test set. */
  indices: number[];
  labels: number[];
  height: number;
  width: number;
  models: ModelExplanation[];
  /** The figure, PNG bytes. */
  figure: Buffer;
}

export interface ExplainOptions {
  info: DatasetInfo;
  test: ImageSet;
  indices: readonly number[];
  /** Explain this class instead of each image's prediction. */
  target?: number;
  /** Images per Grad-CAM pass (default `inferenceBatchSize`). */
  batchSize?: number;
}

/** Load a checkpoint to explain; anything that is not a kilosecond checkpoint is a UserError. */
function loadModelToExplain(path: string, backend: Backend): { model: Network; meta: CheckpointMeta } {
  try {
    return loadCheckpoint(path, backend);
  } catch (err) {
    if (err instanceof UserError) {
      throw new UserError(msg`${err}\n(explain needs a checkpoint written by \`kilosecond train\`)`);
    }
    throw err;
  }
}

/** Throws a UserError unless the model can take the dataset's images and labels. */
function checkModelFitsDataset(meta: CheckpointMeta, info: DatasetInfo, modelPath: string): void {
  if (meta.inChannels !== info.channels) {
    throw new UserError(
      msg`${modelPath} takes ${meta.inChannels}-channel images (trained on ${meta.dataset}) but ${info.name} has ${info.channels}; pass the ${setting('dataset')} the model was trained on`,
    );
  }
  const [h, w] = meta.inputSize;
  if (h !== info.height || w !== info.width) {
    throw new UserError(msg`${modelPath} was trained on ${h}x${w} images (${meta.dataset}) but ${info.name} has ${info.height}x${info.width}; pass the ${setting('dataset')} the model was trained on`);
  }
  if (meta.classes.length !== info.classes.length) {
    throw new UserError(msg`${modelPath} has ${meta.classes.length} classes (${meta.dataset}) but ${info.name} has ${info.classes.length}; pass the ${setting('dataset')} the model was trained on`);
  }
  if (meta.mean.length !== info.channels || meta.std.length !== info.channels) {
    throw new UserError(`${modelPath}: its normalisation (mean ${JSON.stringify(meta.mean)}, std ${JSON.stringify(meta.std)}) does not have ${info.channels} channel(s); the checkpoint metadata is corrupt`);
  }
}

/** Grad-CAM of every model over the chosen images, and the figure: one row per image. */
export async function explainImages(models: readonly ModelToExplain[], o: ExplainOptions): Promise<Explanation> {
  const { info, test } = o;
  for (const i of o.indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < test.count)) throw new UserError(`image ${i} is not in the test set (0..${test.count - 1})`);
  }
  const explained: ModelExplanation[] = [];
  for (const m of models) explained.push({ name: m.name, ...(await explainModel(m, o)) });
  const size = test.height * test.width;
  const rows = o.indices.map((index, row): GradcamRow => ({
    image: pixelImage(test, index),
    trueLabel: info.classes[test.labels[index]!]!,
    explanations: explained.map((e) => ({
      cam: { height: test.height, width: test.width, data: e.cams.subarray(row * size, (row + 1) * size) },
      predictedLabel: info.classes[e.predictions[row]!]!,
    })),
  }));
  // Short: the figure is only as wide as its columns and does not wrap the title.
  const figure = gradcamFigure(rows, {
    modelNames: models.map((m) => m.name),
    title: o.target === undefined ? `Grad-CAM, ${info.name}` : `Grad-CAM of '${info.classes[o.target]}'`,
  });
  return { indices: [...o.indices], labels: o.indices.map((i) => test.labels[i]!), height: test.height, width: test.width, models: explained, figure };
}

async function explainModel(m: ModelToExplain, o: ExplainOptions): Promise<Omit<ModelExplanation, 'name'>> {
  const { test } = o;
  const batchSize = o.batchSize ?? inferenceBatchSize;
  const imageSize = test.height * test.width * test.channels;
  const normaliser = new Normaliser(m.meta.mean, m.meta.std);
  const n = o.indices.length;
  const cams = new Float32Array(n * test.height * test.width);
  const targets: number[] = [];
  const predictions: number[] = [];
  for (let from = 0; from < n; from += batchSize) {
    const batch = o.indices.slice(from, from + batchSize);
    const pixels = new Float32Array(batch.length * imageSize);
    batch.forEach((index, k) => normaliser.normalise(test.images, index * imageSize, imageSize, pixels, k * imageSize));
    const images = Tensor.fromArray(m.model.backend, [batch.length, test.height, test.width, test.channels], pixels);
    try {
      const r = await gradCam(m.model, images, o.target === undefined ? undefined : batch.map(() => o.target!));
      cams.set(r.upsampled, from * test.height * test.width);
      targets.push(...r.targets);
      predictions.push(...r.predictions);
    } finally {
      images.dispose();
    }
  }
  return { targets, predictions, cams };
}

export interface CheckpointsToExplain {
  /** Checkpoint files and their column titles, e.g. trained with and without augmentation. */
  checkpoints: ReadonlyArray<{ path: string; name: string }>;
  backend: Backend;
  info: DatasetInfo;
  test: ImageSet;
  /** How many test images, chosen by `selectImages` with `seed` (and `onlyClass`). */
  images: number;
  seed: number;
  onlyClass?: number;
  target?: number;
  batchSize?: number;
}

/**
 * Load the checkpoints, check that they fit the dataset, pick the images and explain them:
 * `kilosecond explain` and the with/without augmentation experiment both come through here.
 */
export async function explainCheckpoints(o: CheckpointsToExplain): Promise<Explanation> {
  const models: ModelToExplain[] = [];
  try {
    for (const { path, name } of o.checkpoints) {
      const { model, meta } = loadModelToExplain(path, o.backend);
      models.push({ name, model, meta });
      checkModelFitsDataset(meta, o.info, path);
    }
    const indices = selectImages(o.test.labels, {
      images: o.images, classes: o.info.classes.length, seed: o.seed, ...(o.onlyClass === undefined ? {} : { onlyClass: o.onlyClass }),
    });
    return await explainImages(models, {
      info: o.info, test: o.test, indices,
      ...(o.target === undefined ? {} : { target: o.target }),
      ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    });
  } finally {
    for (const m of models) m.model.dispose();
  }
}

/**
 * The maps as safetensors tensors, for other tools to check: `indices`, `labels` (int64 test-set
 * positions and true classes), then per model `targets`, `predictions` (int64) and `cams`
 * (float32 [n, height, width]); the second model's names start with `compare_`.
 */
export function explanationTensors(e: Explanation): Map<string, SafeTensor> {
  const int64 = (values: readonly number[]): SafeTensor => ({ dtype: 'I64', shape: [values.length], data: BigInt64Array.from(values, BigInt) });
  const tensors = new Map<string, SafeTensor>([['indices', int64(e.indices)], ['labels', int64(e.labels)]]);
  e.models.forEach((m, k) => {
    const prefix = k === 0 ? '' : k === 1 ? 'compare_' : `compare${k}_`;
    tensors.set(`${prefix}targets`, int64(m.targets));
    tensors.set(`${prefix}predictions`, int64(m.predictions));
    tensors.set(`${prefix}cams`, { dtype: 'F32', shape: [e.indices.length, e.height, e.width], data: m.cams });
  });
  return tensors;
}

function pixelImage(set: ImageSet, index: number): PixelImage {
  const size = set.height * set.width * set.channels;
  if (set.channels !== 1 && set.channels !== 3) throw new UserError(`cannot draw ${set.channels}-channel images; only grey and RGB`);
  return { height: set.height, width: set.width, channels: set.channels, data: set.images.subarray(index * size, (index + 1) * size) };
}
