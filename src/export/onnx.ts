/**
 * @file `kilosecond export`: a checkpoint file as an ONNX file (onnx-model.ts builds the model).
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createBackend } from '../backends/index.js';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { kilosecondVersion } from '../train/environment.js';
import { encodeOnnx, OPSET } from './onnx-model.js';

/** What `exportOnnx` wrote. */
export interface OnnxExport {
  path: string;
  bytes: number;
  opset: number;
  /** The input's shape; 'batch' is chosen at run time. */
  inputShape: ['batch', number, number, number];
  classes: string[];
  dataset: string;
}

/**
 * Export a kilosecond checkpoint (`model.safetensors`, ResNet-9 or the airbench network) as an
 * ONNX model at `outPath`: the model `encodeOnnx` describes.
 *
 * The file is written atomically: a failed export never leaves a partial file at `outPath`.
 *
 * @throws UserError when the checkpoint cannot be read or is not a kilosecond model, or when
 *   the folder of `outPath` does not exist.
 */
export async function exportOnnx(checkpointPath: string, outPath: string): Promise<OnnxExport> {
  checkWritable(outPath);
  // The reference backend keeps tensors in host memory: reading them back is a copy, not a transfer.
  const backend = await createBackend('reference');
  try {
    const { model, meta } = loadCheckpoint(checkpointPath, backend);
    try {
      const bytes = await encodeOnnx(model, meta, kilosecondVersion);
      await writeFileAtomic(outPath, bytes);
      const [h, w] = meta.inputSize;
      return { path: outPath, bytes: bytes.length, opset: OPSET, inputShape: ['batch', meta.inChannels, h, w], classes: meta.classes, dataset: meta.dataset };
    } finally {
      model.dispose();
    }
  } finally {
    backend.dispose();
  }
}

/** Fails early, before the model is built, with the path the user gave. */
function checkWritable(outPath: string): void {
  const folder = dirname(resolve(outPath));
  const stat = statSync(folder, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new UserError(`cannot write ${outPath}: the folder ${folder} does not exist`);
  if (statSync(outPath, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UserError(`cannot write ${outPath}: it is a folder; give a file name such as ${join(outPath, 'model.onnx')}`);
  }
}
