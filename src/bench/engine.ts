/**
 * @file The engine benchmark: a recipe's network's training throughput (ResNet-9 by default, the
 * airbench network for the fast recipe) on synthetic images (3x32x32 like
 * CIFAR-10 unless told otherwise; 1x28x28 for the MNISTs), the
 * same trainStep the trainer runs, timed per step after warm-up (median), plus peak resident
 * memory of the process.
 */
import { createBackend } from '../backends/index.js';
import type { Precision } from '../core/precision.js';
import { type KernelProfileRow, profiled } from './profile.js';
import { Tensor } from '../core/tensor.js';
import { createNetwork } from '../nn/create-network.js';
import { Sfc32 } from '../core/random.js';
import { type RecipeName, recipes } from '../train/recipes.js';
import { trainStep } from '../train/step.js';
import { recipeDefaults } from '../train/settings.js';

export interface EngineBenchOptions {
  backend: string;
  /** The convolutions' precision (default float32). */
  precision?: Precision;
  /** Whose network, optimiser and label smoothing (default dawnbench). */
  recipe?: RecipeName;
  width: number;
  batchSize: number;
  steps: number;
  /** Untimed steps first. */
  warmup: number;
  /** Time every kernel call of the timed steps (bench/profile.ts). */
  profile?: boolean;
  /** Square input side and channels; default 32 and 3 (CIFAR-10). */
  imageSize?: number;
  channels?: number;
}

export interface EngineBenchResult {
  backend: string;
  precision: Precision;
  recipe: RecipeName;
  width: number;
  batch_size: number;
  /** [height, width, channels] of the synthetic images. */
  image: [number, number, number];
  steps: number;
  median_step_s: number;
  train_img_s: number;
  peak_rss_mb: number;
  /** With `profile`: each kernel's time over the timed steps. */
  profile?: KernelProfileRow[];
}

/** Standard normal samples (Box-Muller), so activations look like normalised images. */
function randomNormal(count: number, rng: Sfc32): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.nextFloat()));
    const a = 2 * Math.PI * rng.nextFloat();
    out[i] = r * Math.cos(a);
    if (i + 1 < count) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

export async function benchEngine(o: EngineBenchOptions): Promise<EngineBenchResult> {
  const plain = await createBackend(o.backend, { precision: o.precision ?? 'fp32' });
  const profiler = o.profile ? profiled(plain) : undefined;
  const backend = profiler?.backend ?? plain;
  const rng = new Sfc32(1, 2, 3, 4);
  const size = o.imageSize ?? 32;
  const channels = o.channels ?? 3;
  const name = o.recipe ?? 'dawnbench';
  const recipe = recipeDefaults[name];
  const model = createNetwork(backend, { architecture: recipes[name].architecture, inChannels: channels, classes: 10, width: o.width });
  const optimiser = recipes[name].optimiser(model, recipe);
  const images = Tensor.fromArray(
    backend, [o.batchSize, size, size, channels], randomNormal(o.batchSize * size * size * channels, rng),
  );
  const labels = Tensor.fromArray(backend, [o.batchSize], Float32Array.from({ length: o.batchSize }, () => rng.nextInt(10)));
  try {
    const times: number[] = [];
    for (let i = 0; i < o.warmup + o.steps; i++) {
      if (i === o.warmup) profiler?.reset();
      const start = performance.now();
      trainStep(model, optimiser, { images, labels }, 0.01, recipe.labelSmoothing);
      await backend.sync();
      if (i >= o.warmup) times.push((performance.now() - start) / 1000);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    return {
      backend: backend.name,
      precision: backend.precision ?? 'fp32',
      recipe: name,
      width: o.width,
      batch_size: o.batchSize,
      image: [size, size, channels],
      steps: o.steps,
      median_step_s: median,
      train_img_s: o.batchSize / median,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      ...(profiler ? { profile: profiler.rows() } : {}),
    };
  } finally {
    images.dispose();
    labels.dispose();
    optimiser.dispose();
    model.dispose();
    backend.dispose();
  }
}
