/**
 * @file The page's training worker: the images the page decoded, trained on the user's GPU
 * (WebGPU, `navigator.gpu`) with the same engine, recipe, planner and budget as `kilosecond
 * train` (`trainInMemory`), off the page's thread so that the page stays responsive. It reports
 * progress as it goes, then Grad-CAM of a few test images and the model as the bytes of
 * `model.safetensors` (the checkpoint `train` writes) and of `model.onnx`.
 */
import { createWebGpuBackend, type WebGpuBackend } from '../backends/webgpu/index.js';
import type { GpuConstants } from '../backends/webgpu/device.js';
import { UserError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { testBatches } from '../data/batch.js';
import type { ImageSet } from '../data/datasets.js';
import { describeImages } from '../data/describe.js';
import { gradCam } from '../explain/gradcam.js';
import { encodeOnnx } from '../export/onnx-model.js';
import type { Network } from '../nn/network.js';
import { encodeCheckpoint } from '../train/checkpoint-format.js';
import { runCheckpointMeta, trainInMemory } from '../train/fit-recipe.js';
import { fastRecipe } from '../train/settings.js';
import { type PageImages, type TrainEvent, type TrainRequest, pageChannels, pageImageSide } from './messages.js';

/** esbuild writes the package's version here (scripts/build-web.mjs). */
declare const KILOSECOND_VERSION: string;

interface WorkerScope {
  onmessage: ((event: MessageEvent<TrainRequest>) => void) | null;
  postMessage(message: TrainEvent, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;
const post = (event: TrainEvent, transfer: Transferable[] = []): void => scope.postMessage(event, transfer);

const imageSet = (s: PageImages): ImageSet => ({ ...s, height: pageImageSide, width: pageImageSide, channels: pageChannels });

/** Bytes of one image's largest activation per channel of the first width: the airbench network's first group at the input's side. */
const activationBytesPerWidth = pageImageSide * pageImageSide * 4;

/**
 * The GPU, and the batch the adapter's buffers allow: the fast recipe's 1024 where they hold its
 * largest activation (1024 images of 64 channels at 32x32 in float32 is 256 MiB, the default
 * limits are 128 and 256 MiB), halved until they do.
 */
async function openGpu(width: number): Promise<{ backend: WebGpuBackend; batchSize: number }> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) throw new UserError('this browser has no WebGPU (navigator.gpu): open the page in Chrome or Edge 113 or later, or Firefox or Safari with WebGPU enabled; or train with `kilosecond train` on the command line');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new UserError('WebGPU found no GPU adapter (a blocklisted driver, or no GPU): update the GPU driver, or train with `kilosecond train` on the command line');
  const maxBuffer = Math.min(adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize);
  const info = adapter.info;
  const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  const software = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true || /swiftshader|llvmpipe|software/i.test(description);
  post({ kind: 'adapter', description, software, maxBufferMiB: Math.floor(maxBuffer / 2 ** 20) });
  let batchSize = fastRecipe.batchSize;
  while (batchSize > 1 && batchSize * width * activationBytesPerWidth > maxBuffer) batchSize /= 2;
  const backend = await createWebGpuBackend(
    { gpu, constants: globalThis as unknown as GpuConstants },
    { minBufferBytes: batchSize * width * activationBytesPerWidth },
  );
  return { backend, batchSize };
}

/** Grad-CAM of test images `indices` for their predicted classes. */
async function explain(model: Network, test: ImageSet, info: ReturnType<typeof describeImages>, indices: number[]) {
  if (indices.length === 0) return [];
  const bytes = test.height * test.width * test.channels;
  const chosen: ImageSet = { ...test, count: indices.length, images: new Uint8Array(indices.length * bytes), labels: Uint8Array.from(indices, (i) => test.labels[i]!) };
  indices.forEach((index, k) => chosen.images.set(test.images.subarray(index * bytes, (index + 1) * bytes), k * bytes));
  const [batch] = testBatches(chosen, info, indices.length);
  const images = Tensor.fromArray(model.backend, [indices.length, test.height, test.width, test.channels], batch!.images);
  try {
    const cam = await gradCam(model, images);
    const side = test.height * test.width;
    return indices.map((index, k) => ({ index, predicted: cam.predictions[k]!, map: cam.upsampled.slice(k * side, (k + 1) * side) }));
  } finally {
    images.dispose();
  }
}

async function run(request: TrainRequest): Promise<void> {
  const started = performance.now();
  const train = imageSet(request.train);
  const test = imageSet(request.test);
  const info = describeImages({ name: request.name, classes: request.classes, train, test });
  const { backend, batchSize } = await openGpu(request.width ?? fastRecipe.width);
  let stepsPerEpoch = 1;
  try {
    const run = await trainInMemory({
      backend, info, train, test,
      settings: {
        dataset: request.name, out: '', recipe: 'auto', backend: 'webgpu', precision: 'fp32', budget: request.budget, batchSize, seed: request.seed,
        ...(request.width !== undefined ? { width: request.width } : {}), ...(request.epochs !== undefined ? { epochs: request.epochs } : {}),
      },
    }, {
      onPhase: (text) => post({ kind: 'phase', text }),
      // The batch the run trains with: a small folder's is smaller than the adapter allows (batchSizeFor).
      onPlan: (p, config) => {
        stepsPerEpoch = Math.floor(train.count / config.batchSize);
        post({ kind: 'plan', recipe: p.recipe, width: p.width, epochs: p.epochs, batchSize: config.batchSize, reason: p.plan?.reason ?? p.recipeReason ?? '' });
      },
      onStep: (epoch, step, steps, lr) => post({ kind: 'step', epoch, step, steps, lr }),
      // Where the read was made (it resolves once the GPU gets there, after later steps were reported).
      onRunningMetrics: (epoch, accuracy, loss, step) => post({ kind: 'running', at: epoch + step / stepsPerEpoch, accuracy, loss }),
      onReplan: (replan) => post({ kind: 'replan', replan }),
      onEpoch: (record, _progress, epochs) => post({ kind: 'epoch', record, epochs }),
    });
    try {
      post({ kind: 'phase', text: 'Grad-CAM of test images, and the model files' });
      const explained = await explain(run.model, test, info, request.explain);
      const trainedEpochs = run.result.history.length;
      const meta = runCheckpointMeta(info, { config: run.config, width: run.width, epochs: run.epochs, trainedEpochs, precision: 'fp32', resize: 'crop' });
      const safetensors = await encodeCheckpoint(run.model, meta);
      const onnx = await encodeOnnx(run.model, { ...meta, architecture: run.model.config.architecture }, KILOSECOND_VERSION);
      post({
        kind: 'done', accuracy: run.result.history.at(-1)?.test_accuracy ?? 0, confusion: run.result.confusion, seconds: (performance.now() - started) / 1000,
        explained, safetensors, onnx,
      }, [safetensors.buffer, onnx.buffer, ...explained.map((e) => e.map.buffer)]);
    } finally {
      run.model.dispose();
    }
  } finally {
    backend.dispose();
  }
}

scope.onmessage = ({ data }) => {
  run(data).catch((err: unknown) => {
    // A user's mistake or the machine's limits are said as they are; anything else is a bug, said with its name.
    const message = err instanceof UserError ? err.message : `${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`;
    // The engine's advice for a lost device is the command line's (another backend); here it is to train again.
    const lost = /the GPU device was lost \((.*)\)/.exec(message);
    post({ kind: 'error', message: lost ? `the GPU device was lost (${lost[1]}): train again, with a smaller width if the GPU ran out of memory, or use kilosecond train on the command line` : message });
  });
};
