/**
 * @file The checkpoint format: `model.safetensors` with PyTorch's names and layouts (so PyTorch
 * loads it with strict=True) and, in `__metadata__`, everything needed to use the model again:
 * architecture, dataset, class names, input size, normalisation and the training config. Bytes
 * in, bytes out, no files (checkpoint.ts reads and writes them), so a browser page saves and
 * loads exactly the checkpoints `kilosecond train` does.
 */
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { createNetwork } from '../nn/create-network.js';
import { type Architecture, type Network, architectures } from '../nn/network.js';
import { encodeSafetensors, type SafeFile, type SafeTensor } from '../nn/safetensors.js';
import { loadStateDict, stateDict } from '../nn/state-dict.js';

export interface CheckpointMeta {
  /** Which network the tensors belong to (files from before the fast recipe are ResNet-9's). */
  architecture: Architecture;
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

/** The `format` each architecture's checkpoints carry. */
const formatOf = (architecture: Architecture): string => `kilosecond-${architecture}`;

/** The bytes of `model`'s checkpoint: what saveCheckpoint writes. */
export async function encodeCheckpoint(model: Network, meta: Omit<CheckpointMeta, 'architecture'>): Promise<Uint8Array> {
  return encodeSafetensors(await stateDict(model), {
    format: formatOf(model.config.architecture),
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

/** The metadata of a parsed checkpoint; `path` names it in errors. */
export function checkpointMeta(metadata: Record<string, string>, path: string): CheckpointMeta {
  const json = <T>(key: string): T => {
    const raw = metadata[key];
    if (raw === undefined) {
      throw new UserError(`${path}: __metadata__ has no '${key}'; is this a kilosecond checkpoint (made by \`kilosecond train\`)?`);
    }
    try {
      return JSON.parse(raw) as T;
    } catch {
      throw new UserError(`${path}: __metadata__ '${key}' is not valid JSON: ${raw.slice(0, 60)}`);
    }
  };
  // A file PyTorch wrote (the interop contract's other direction) carries no format: ResNet-9's metadata then.
  const architecture = metadata.format === undefined ? 'resnet9' : architectures.find((a) => metadata.format === formatOf(a));
  if (architecture === undefined) {
    throw new UserError(`${path}: format '${metadata.format}' is not a kilosecond checkpoint's (${architectures.map(formatOf).join(' or ')}); is it a file \`kilosecond train\` made?`);
  }
  return {
    architecture,
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

/** When the tensors fit another architecture than the metadata says: a sentence naming it, for the error. */
function otherArchitecture(tensors: Map<string, SafeTensor>, meta: CheckpointMeta, backend: Backend): string {
  for (const architecture of architectures.filter((a) => a !== meta.architecture)) {
    const other = createNetwork(backend, { architecture, inChannels: meta.inChannels, classes: meta.classes.length, width: meta.width });
    try {
      loadStateDict(other, tensors, '');
      return `\n(its tensors are ${other.describe()}'s: the file's metadata names the wrong network; it was not written by this version of \`kilosecond train\`)`;
    } catch {
      // Not this one either.
    } finally {
      other.dispose();
    }
  }
  return '';
}

/** A parsed checkpoint's network on `backend` (the caller disposes it) and its metadata; `path` names it in errors. */
export function decodeCheckpoint(file: SafeFile, path: string, backend: Backend): { model: Network; meta: CheckpointMeta } {
  const meta = checkpointMeta(file.metadata, path);
  const model = createNetwork(backend, { architecture: meta.architecture, inChannels: meta.inChannels, classes: meta.classes.length, width: meta.width });
  try {
    loadStateDict(model, file.tensors, path);
  } catch (err) {
    model.dispose();
    throw err instanceof UserError ? new UserError(`${err.message}${otherArchitecture(file.tensors, meta, backend)}`) : err;
  }
  return { model, meta };
}
