/**
 * @file Batch normalisation over the channels of an NHWC tensor, with an optional fused ReLU:
 * one pass each way instead of separate BN and ReLU passes (why: BENCHMARKS.md, "Engine").
 */
import { defineOp, notDifferentiable } from '../op.js';
import { expectShape, type Tensor } from '../tensor.js';

/** PyTorch's default epsilon, which ResNet-9 uses (and the ONNX export folds in). */
export const defaultBatchNormEps = 1e-5;

/** The learnable and running state of one BatchNorm2d layer (PyTorch's names). */
export interface BatchNormState {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  /** Training-mode forward passes so far (PyTorch's num_batches_tracked). */
  batchesTracked: number;
}

export interface BatchNormOptions {
  training: boolean;
  relu: boolean;
  eps?: number;
  momentum?: number;
}

export const batchNorm = defineOp('batchNorm', (g, x: Tensor, bn: BatchNormState, o: BatchNormOptions) => {
  const channels = x.shape[x.shape.length - 1];
  expectShape('batch norm weight', bn.weight, [channels]);
  const rows = x.size / channels;
  const s = { rows, channels, eps: o.eps ?? defaultBatchNormEps, relu: o.relu };
  const y = g.empty(x.shape);
  const { weight: gamma, bias: beta, runningMean, runningVar } = bn;
  if (!o.training) {
    g.backend.batchNormEval(
      { x: x.buffer, gamma: gamma.buffer, beta: beta.buffer, runningMean: runningMean.buffer, runningVar: runningVar.buffer, y: y.buffer }, s,
    );
    // Nothing differentiates through eval mode (Grad-CAM starts from features computed before it).
    return {
      inputs: [x], output: y, saves: [],
      backward: notDifferentiable('gradients through eval-mode batch norm are not supported; run the model in training mode to train it'),
    };
  }
  const mean = g.empty([channels]);
  const invstd = g.empty([channels]);
  g.backend.batchNormTrain({
    x: x.buffer, gamma: gamma.buffer, beta: beta.buffer, y: y.buffer, mean: mean.buffer, invstd: invstd.buffer,
    runningMean: runningMean.buffer, runningVar: runningVar.buffer,
  }, { ...s, momentum: o.momentum ?? 0.1 });
  bn.batchesTracked++;

  return {
    inputs: [x, gamma, beta], output: y, saves: [x, y, mean, invstd],
    backward: (gy) => {
      // With g = gy * relu'(y) and xhat = (x - mean) * invstd:
      //   d beta = sum g,  d gamma = sum g * xhat,
      //   dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)).
      const gx = g.empty(x.shape);
      const ggamma = g.empty([channels]);
      const gbeta = g.empty([channels]);
      g.backend.batchNormBackward({
        x: x.buffer, y: y.buffer, gy: gy.buffer, gamma: gamma.buffer, mean: mean.buffer, invstd: invstd.buffer,
        gx: gx.buffer, ggamma: ggamma.buffer, gbeta: gbeta.buffer,
      }, s);
      return [gx, ggamma, gbeta];
    },
  };
});
