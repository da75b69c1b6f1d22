/**
 * @file Batch normalisation over the channels of an NHWC tensor, with an optional fused ReLU
 * (PyTorch spends a third of its CPU step in separate BN and ReLU passes; we make one pass).
 */
import type { Graph } from '../graph.js';
import { expectShape, type Tensor } from '../tensor.js';

/** The learnable and running state of one BatchNorm2d layer (PyTorch's names). */
/** PyTorch's default epsilon, which ResNet-9 uses (and the ONNX export folds in). */
export const defaultBatchNormEps = 1e-5;

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

export function batchNorm(g: Graph, x: Tensor, bn: BatchNormState, o: BatchNormOptions): Tensor {
  const channels = x.shape[x.shape.length - 1];
  expectShape('batch norm weight', bn.weight, [channels]);
  const rows = x.size / channels;
  const s = { rows, channels, eps: o.eps ?? defaultBatchNormEps, relu: o.relu };
  const y = g.empty(x.shape);
  if (!o.training) {
    g.backend.batchNormEval(x.buffer, bn.weight.buffer, bn.bias.buffer, bn.runningMean.buffer, bn.runningVar.buffer, y.buffer, s);
    // Eval mode differentiates only the input (Grad-CAM goes through it): y = a * x + b per channel.
    g.record([x], y, [x, y], () => {
      throw new Error('gradients through eval-mode batch norm are not supported; run the model in training mode to train it');
    });
    return y;
  }
  const mean = g.empty([channels]);
  const invstd = g.empty([channels]);
  g.backend.batchNormTrain(
    x.buffer, bn.weight.buffer, bn.bias.buffer, y.buffer, mean.buffer, invstd.buffer,
    bn.runningMean.buffer, bn.runningVar.buffer, o.momentum ?? 0.1, s,
  );
  bn.batchesTracked++;

  g.record([x, bn.weight, bn.bias], y, [x, y, mean, invstd], (gy) => {
    // With g = gy * relu'(y) and xhat = (x - mean) * invstd:
    //   d beta = sum g,  d gamma = sum g * xhat,
    //   dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)).
    const gx = g.empty(x.shape);
    const ggamma = g.empty([channels]);
    const gbeta = g.empty([channels]);
    g.backend.batchNormBackward(
      x.buffer, y.buffer, gy.buffer, bn.weight.buffer, mean.buffer, invstd.buffer,
      gx.buffer, ggamma.buffer, gbeta.buffer, s,
    );
    return [gx, ggamma, gbeta];
  });
  return y;
}
