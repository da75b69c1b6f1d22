/**
 * @file Using a trained model on new images: each file decoded and resized exactly as the
 * checkpoint records (input size, channels, resize mode), normalised with its mean and std, run
 * in eval mode in batches, and answered with the top classes and their probabilities.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { Graph } from '../core/graph.js';
import { Tensor } from '../core/tensor.js';
import { Normaliser } from '../data/batch.js';
import { defaultResize, type DecodeSettings } from '../data/folder/decode.js';
import { decodeFiles, readHeaders } from '../data/folder/decode-files.js';
import { imageExtensions, isImageName } from '../data/folder/split.js';
import type { Network } from '../nn/network.js';
import { loadCheckpoint, type CheckpointMeta } from '../train/checkpoint.js';

/** What the model says of one image: its top classes, best first, and the eval-mode logits. */
export interface ImagePrediction {
  top: Array<{ class: string; probability: number }>;
  logits: number[];
}

export interface Prediction extends ImagePrediction {
  file: string;
}

/** Images per forward pass when predicting or explaining, unless told otherwise (memory, not results, depends on it). */
export const inferenceBatchSize = 64;

/** The image files among `paths`: files as given, folders searched recursively (sorted). */
export function imageFilesIn(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (isImageName(name)) out.push(path);
    }
  };
  for (const p of paths) {
    let s;
    try {
      s = statSync(p);
    } catch {
      throw new UserError(`${p}: no such file or folder`);
    }
    if (s.isDirectory()) walk(p);
    else out.push(p);
  }
  if (out.length === 0) throw new UserError(`${paths.join(', ')}: no image files (${imageExtensions.join(' ')})`);
  return out;
}

/** How images are prepared for a checkpoint's model. */
function decodeSettingsOf(meta: CheckpointMeta): DecodeSettings {
  const [h, w] = meta.inputSize;
  if (h !== w) throw new UserError(`the model takes ${h}x${w} inputs; predict handles square inputs only`);
  if (meta.inChannels !== 1 && meta.inChannels !== 3) throw new UserError(`the model takes ${meta.inChannels}-channel images; predict decodes 1 or 3 channels`);
  return { size: h, channels: meta.inChannels, resize: meta.resize ?? defaultResize };
}

const cannotDecode = (file: string, r: { error: string }) => new UserError(`${file}: cannot be decoded as an image (${r.error})`);

function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const e = [...logits].map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Predicts every file with the checkpoint at `modelPath`; a file that cannot be decoded is an error naming it. */
export async function predictFiles(modelPath: string, files: readonly string[], backend: Backend, o: { topK: number; batchSize: number }): Promise<Prediction[]> {
  const { model, meta } = loadCheckpoint(modelPath, backend);
  try {
    const settings = decodeSettingsOf(meta);
    const normaliser = new Normaliser(meta.mean, meta.std);
    const imageSize = settings.size * settings.size * settings.channels;
    const k = Math.min(o.topK, meta.classes.length);
    const out: Prediction[] = [];
    // Decoded exactly as the folder loader decodes training images.
    const decode = async (batch: readonly string[]): Promise<Uint8Array[]> => {
      const headers = await readHeaders(batch);
      const decoded = await decodeFiles(batch.map((path, i) => {
        const header = headers[i]!;
        if ('error' in header) throw cannotDecode(path, header);
        return { path, header };
      }), settings);
      return decoded.map((r, i) => {
        if ('error' in r) throw cannotDecode(batch[i]!, r);
        return r.pixels;
      });
    };
    for (let from = 0; from < files.length; from += o.batchSize) {
      const batchFiles = files.slice(from, from + o.batchSize);
      const pixels = await decode(batchFiles);
      const input = new Float32Array(batchFiles.length * imageSize);
      pixels.forEach((p, i) => normaliser.normalise(p, 0, imageSize, input, i * imageSize));
      const predictions = await predictBatch(model, meta.classes, input, [batchFiles.length, settings.size, settings.size, settings.channels], k);
      batchFiles.forEach((file, i) => out.push({ file, ...predictions[i]! }));
    }
    return out;
  } finally {
    model.dispose();
  }
}

/**
 * The eval-mode predictions of one batch of normalised NHWC images (`shape` [n, h, w, c]): per
 * image the `topK` most probable of `classes`, best first (ties by class index), and the logits.
 */
export async function predictBatch(
  model: Network, classes: readonly string[], input: Float32Array, shape: readonly number[], topK: number,
): Promise<ImagePrediction[]> {
  const images = Tensor.fromArray(model.backend, shape, input);
  const g = new Graph(model.backend, { record: false });
  let logits: Float32Array;
  try {
    logits = await model.forward(g, images, { training: false }).read();
  } finally {
    g.dispose();
    images.dispose();
  }
  const classCount = classes.length;
  return Array.from({ length: shape[0]! }, (_, i) => {
    const row = logits.subarray(i * classCount, (i + 1) * classCount);
    const p = softmax(row);
    const order = p.map((_, c) => c).sort((a, b) => p[b]! - p[a]! || a - b);
    return { top: order.slice(0, topK).map((c) => ({ class: classes[c]!, probability: p[c]! })), logits: [...row] };
  });
}
