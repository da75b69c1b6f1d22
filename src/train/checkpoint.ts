/**
 * @file Checkpoint files: checkpoint-format.ts's bytes, written atomically and read back.
 */
import type { Backend } from '../core/backend.js';
import { readSafetensors, writeSafetensorsBytes } from '../io/safetensors-file.js';
import type { Network } from '../nn/network.js';
import { type CheckpointMeta, checkpointMeta, decodeCheckpoint, encodeCheckpoint } from './checkpoint-format.js';

// Its callers name the metadata they pass and get back without importing the format.
export type { CheckpointMeta } from './checkpoint-format.js';

export async function saveCheckpoint(path: string, model: Network, meta: Omit<CheckpointMeta, 'architecture'>): Promise<void> {
  writeSafetensorsBytes(path, await encodeCheckpoint(model, meta));
}

/** A checkpoint's metadata alone, without putting its tensors on a device. */
export function readCheckpointMeta(path: string): CheckpointMeta {
  return checkpointMeta(readSafetensors(path).metadata, path);
}

/** Load a checkpoint onto `backend`; the caller disposes the model. */
export function loadCheckpoint(path: string, backend: Backend): { model: Network; meta: CheckpointMeta } {
  return decodeCheckpoint(readSafetensors(path), path, backend);
}
