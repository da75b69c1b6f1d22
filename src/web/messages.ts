/**
 * @file What the page and its two workers say to each other: the decode worker turns image
 * files into pixels, the training worker trains on them and hands back the model. Plain data
 * only (structured clone), the pixel buffers transferred, never copied.
 */
import type { EpochRecord } from '../train/fit.js';
import type { Replan } from '../train/budget.js';

/** The side every image is decoded to (the fast recipe's network wants at least 32x32), and its channels. */
export const pageImageSide = 32;
export const pageChannels = 3;

export interface DecodeRequest {
  id: number;
  files: File[];
}

export interface DecodeReply {
  id: number;
  /** files.length images of side x side x 3 bytes, HWC; a failed image's bytes are zero. */
  pixels: Uint8Array;
  /** Per file, why it could not be decoded (null when it was). */
  errors: Array<string | null>;
}

/** An image set as the engine takes it (ImageSet), with buffers that can be transferred. */
export interface PageImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface TrainRequest {
  kind: 'train';
  name: string;
  classes: string[];
  train: PageImages;
  test: PageImages;
  /** Seconds the whole run may take (planning, training, evaluation). */
  budget: number;
  /** Left to the planner when absent. */
  width?: number;
  epochs?: number;
  seed: number;
  /** Test images to explain with Grad-CAM (indices into `test`). */
  explain: number[];
}

export type TrainEvent =
  | { kind: 'adapter'; description: string; software: boolean; maxBufferMiB: number }
  | { kind: 'phase'; text: string }
  | { kind: 'plan'; recipe: string; width: number; epochs: number; batchSize: number; reason: string }
  | { kind: 'step'; epoch: number; step: number; steps: number; lr: number }
  /** The epoch's running training accuracy and loss, read after `at` epochs (3.5: half-way through the fourth). */
  | { kind: 'running'; at: number; accuracy: number; loss: number }
  | { kind: 'epoch'; record: EpochRecord; epochs: number }
  | { kind: 'replan'; replan: Replan }
  | {
    kind: 'done';
    accuracy: number;
    confusion: number[][];
    seconds: number;
    /** Grad-CAM of the requested test images: the predicted class and a side x side map in 0..1. */
    explained: Array<{ index: number; predicted: number; map: Float32Array }>;
    safetensors: Uint8Array;
    onnx: Uint8Array;
  }
  | { kind: 'error'; message: string };
