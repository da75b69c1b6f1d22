/**
 * @file Checkpoints: `model.safetensors` with PyTorch's names and layouts (so PyTorch loads it
 * with strict=True) and, in `__metadata__`, everything needed to use the model again: dataset,
 * class names, input size, normalisation and the training config.
 */
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { ResNet9 } from '../nn/resnet9.js';
import { readSafetensors, writeSafetensors } from '../nn/safetensors.js';
import { loadStateDict, stateDict } from '../nn/state-dict.js';

export interface CheckpointMeta {
  dataset: string;
  classes: string[];
  inChannels: number;
  width: number;
  mean: number[];
  std: number[];
  /** [H, W] the model was trained on. */
  inputSize: [number, number];
  /** How images of other sizes become inputSize (image-folder models): crop = shorter side, then centre square; stretch = whole image. */
  resize?: 'crop' | 'stretch';
  /** The training configuration, as the trainer recorded it. */
  config?: Record<string, unknown>;
}

export async function saveCheckpoint(path: string, model: ResNet9, meta: CheckpointMeta): Promise<void> {
  writeSafetensors(path, await stateDict(model), {
    format: 'kilosecond-resnet9',
    dataset: meta.dataset,
    classes: JSON.stringify(meta.classes),
    in_channels: String(meta.inChannels),
    width: String(meta.width),
    mean: JSON.stringify(meta.mean),
    std: JSON.stringify(meta.std),
    input_size: JSON.stringify(meta.inputSize),
    ...(meta.resize ? { resize: meta.resize } : {}),
    ...(meta.config ? { config: JSON.stringify(meta.config) } : {}),
  });
}

function parseMeta(metadata: Record<string, string>, path: string): CheckpointMeta {
  const json = <T>(key: string): T => {
    const raw = metadata[key];
    if (raw === undefined) {
      throw new UserError(`${path}: __metadata__ has no '${key}'; is this a kilosecond ResNet-9 checkpoint (made by \`kilosecond train\`)?`);
    }
    try {
      return JSON.parse(raw) as T;
    } catch {
      throw new UserError(`${path}: __metadata__ '${key}' is not valid JSON: ${raw.slice(0, 60)}`);
    }
  };
  return {
    dataset: metadata.dataset ?? json<string>('dataset'),
    classes: json<string[]>('classes'),
    inChannels: json<number>('in_channels'),
    width: json<number>('width'),
    mean: json<number[]>('mean'),
    std: json<number[]>('std'),
    inputSize: json<[number, number]>('input_size'),
    ...(metadata.resize === 'crop' || metadata.resize === 'stretch' ? { resize: metadata.resize } : {}),
    config: metadata.config ? json<Record<string, unknown>>('config') : undefined,
  };
}

/** A checkpoint's metadata alone, without putting its tensors on a device. */
export function readCheckpointMeta(path: string): CheckpointMeta {
  return parseMeta(readSafetensors(path).metadata, path);
}

/** Load a checkpoint onto `backend`; the caller disposes the model. */
export function loadCheckpoint(path: string, backend: Backend): { model: ResNet9; meta: CheckpointMeta } {
  const file = readSafetensors(path);
  const meta = parseMeta(file.metadata, path);
  const model = new ResNet9(backend, { inChannels: meta.inChannels, classes: meta.classes.length, width: meta.width });
  try {
    loadStateDict(model, file.tensors, path);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, meta };
}
