/**
 * @file Initial weights as PyTorch draws them, from our seeded generator: what a freshly built
 * network holds before training (or before a PyTorch state dict replaces it).
 */
import type { Backend } from '../core/backend.js';
import type { BatchNormState } from '../core/ops/batchnorm.js';
import { Tensor } from '../core/tensor.js';
import type { Sfc32 } from '../core/random.js';

/** `count` values uniform in (-bound, bound). */
export function uniform(count: number, bound: number, rng: Sfc32): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * rng.nextFloat() - 1) * bound;
  return out;
}

/**
 * A k x k convolution weight, HWIO, with PyTorch's default init, kaiming_uniform(a = sqrt(5)):
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = k k cin.
 */
export function convWeight(backend: Backend, k: number, cin: number, cout: number, rng: Sfc32): Tensor {
  const fanIn = k * k * cin;
  return Tensor.fromArray(backend, [k, k, cin, cout], uniform(fanIn * cout, 1 / Math.sqrt(fanIn), rng));
}

/** A linear weight [out, in] with PyTorch's default init (the same bound as a convolution's). */
export function linearWeight(backend: Backend, inputs: number, outputs: number, rng: Sfc32): Tensor {
  return Tensor.fromArray(backend, [outputs, inputs], uniform(outputs * inputs, 1 / Math.sqrt(inputs), rng));
}

/** A fresh BatchNorm2d: scale 1, shift 0, running mean 0 and variance 1. */
export function batchNormLayer(backend: Backend, channels: number): BatchNormState {
  return {
    weight: Tensor.fromArray(backend, [channels], new Float32Array(channels).fill(1)),
    bias: Tensor.fromArray(backend, [channels], new Float32Array(channels)),
    runningMean: Tensor.fromArray(backend, [channels], new Float32Array(channels)),
    runningVar: Tensor.fromArray(backend, [channels], new Float32Array(channels).fill(1)),
    batchesTracked: 0,
  };
}
