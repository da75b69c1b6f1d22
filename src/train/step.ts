/**
 * @file One training step and one evaluation batch: the inner loops of the trainer, also used
 * by the engine benchmark so that what is measured is exactly what trains.
 */
import type { Backend } from '../core/backend.js';
import { Graph } from '../core/graph.js';
import { add, scale } from '../core/ops/dense.js';
import { crossEntropy } from '../core/ops/loss.js';
import { Tensor } from '../core/tensor.js';
import type { Network } from '../nn/network.js';
import type { Sgd } from '../optim/sgd.js';

/**
 * Running sums of correct predictions and (unsmoothed) loss, kept on the device so that a step
 * never waits for a read-back; `read` is the only synchronising call.
 */
export class DeviceMetrics {
  private readonly stats: Tensor;
  private count = 0;

  constructor(private readonly backend: Backend) {
    this.stats = Tensor.fromArray(backend, [2], new Float32Array(2));
  }

  /** Add a batch of logits [n, k] with labels [n]. */
  add(logits: Tensor, labels: Tensor): void {
    const [n, k] = logits.shape;
    this.backend.accumulateMetrics({ logits: logits.buffer, labels: labels.buffer, stats: this.stats.buffer }, { n, k });
    this.count += n;
  }

  /** Accuracy and mean loss over everything added since the last reset. */
  async read(): Promise<{ accuracy: number; loss: number; count: number }> {
    // The images added when the read was queued: steps queued while it waits are not in its sums.
    const count = this.count;
    const [correct, loss] = await this.stats.read();
    return { accuracy: count > 0 ? correct / count : 0, loss: count > 0 ? loss / count : 0, count };
  }

  reset(): void {
    this.backend.fill(this.stats.buffer, 0);
    this.count = 0;
  }

  dispose(): void {
    this.stats.dispose();
  }
}

/** A batch resident on the device: images [n, h, w, c] normalised, labels [n]. */
export interface DeviceBatch {
  images: Tensor;
  labels: Tensor;
}

/** Forward, backward and SGD update on one batch; training metrics accumulate on the device. */
export function trainStep(
  model: Network, optimiser: Sgd, batch: DeviceBatch, lr: number, labelSmoothing: number, metrics?: DeviceMetrics,
): void {
  const g = new Graph(model.backend);
  try {
    const logits = model.forward(g, batch.images, { training: true });
    metrics?.add(logits, batch.labels);
    const loss = crossEntropy(g, logits, batch.labels, labelSmoothing);
    optimiser.step(g.backward(loss, optimiser.trainable()), lr);
  } finally {
    g.dispose();
  }
}

/**
 * Re-estimate every batch-norm layer's running statistics for the current weights: train-mode
 * forward passes over `batches` with no weight update, batch k averaged in with momentum
 * 1 / (k + 1), so the result is the plain mean over the batches (PreciseBN, Wu & Johnson 2021).
 * The statistics training leaves behind are an exponential average over weights that kept
 * changing; evaluation with them can swing by points from one epoch to the next.
 */
export function recalibrateBatchNorm(model: Network, batches: Iterable<DeviceBatch>): void {
  let k = 0;
  for (const batch of batches) {
    const g = new Graph(model.backend, { record: false });
    try {
      model.forward(g, batch.images, { training: true, bnMomentum: 1 / (k + 1) });
    } finally {
      g.dispose();
    }
    k++;
  }
}

/**
 * Eval-mode logits of a batch into `metrics`. With `views` (test-time augmentation: images and
 * weights, the batch's own images among them) the weighted sum of their logits counts instead.
 * No tape is built.
 */
export function evalBatch(model: Network, batch: DeviceBatch, metrics: DeviceMetrics, views?: ReadonlyArray<readonly [Tensor, number]>): void {
  const g = new Graph(model.backend, { record: false });
  try {
    const logitsOf = ([images, weight]: readonly [Tensor, number]): Tensor => {
      const logits = model.forward(g, images, { training: false });
      return weight === 1 ? logits : scale(g, logits, weight);
    };
    const logits = views && views.length > 0 ? views.slice(1).reduce((sum, view) => add(g, sum, logitsOf(view)), logitsOf(views[0]!)) : logitsOf([batch.images, 1]);
    metrics.add(logits, batch.labels);
  } finally {
    g.dispose();
  }
}
