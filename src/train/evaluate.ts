/**
 * @file Evaluation on a test set, and the device tensors batches are uploaded into.
 */
import type { Backend } from '../core/backend.js';
import { Graph } from '../core/graph.js';
import { Tensor } from '../core/tensor.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { type Batch, testBatches } from '../data/batch.js';
import type { Network } from '../nn/network.js';
import { type TestTimeAugmentation, viewsOf } from './tta.js';
import { type DeviceBatch, type DeviceMetrics, evalBatch } from './step.js';

/** Device tensors for batches, one pair per batch size, reused across steps. */
export class BatchUploader {
  private readonly pairs = new Map<number, DeviceBatch>();

  constructor(private readonly backend: Backend, private readonly info: DatasetInfo) {}

  upload(batch: Batch): DeviceBatch {
    let pair = this.pairs.get(batch.size);
    if (!pair) {
      const { height, width, channels } = this.info;
      pair = {
        images: Tensor.empty(this.backend, [batch.size, height, width, channels]),
        labels: Tensor.empty(this.backend, [batch.size]),
      };
      this.pairs.set(batch.size, pair);
    }
    pair.images.write(batch.images);
    pair.labels.write(batch.labels);
    return pair;
  }

  dispose(): void {
    for (const p of this.pairs.values()) {
      p.images.dispose();
      p.labels.dispose();
    }
  }
}

/** Accuracy and mean loss of `model` (eval mode) over a test set, with test-time augmentation `tta`. */
export async function evaluate(
  model: Network, test: ImageSet, info: DatasetInfo, o: { batchSize: number; tta: TestTimeAugmentation }, uploader: BatchUploader, metrics: DeviceMetrics,
): Promise<{ accuracy: number; loss: number; count: number }> {
  metrics.reset();
  const views = viewsOf(o.tta);
  // One device tensor per (view, batch size), reused from batch to batch.
  const viewTensors = new Map<string, Tensor>();
  try {
    for (const batch of testBatches(test, info, o.batchSize)) {
      const device = uploader.upload(batch);
      const host = { data: batch.images, n: batch.size, h: info.height, w: info.width, c: info.channels };
      const weighted = views.map((view, k): [Tensor, number] => {
        if (!view.transform) return [device.images, view.weight];
        const key = `${k}/${batch.size}`;
        const t = viewTensors.get(key) ?? Tensor.empty(model.backend, device.images.shape);
        viewTensors.set(key, t);
        t.write(view.transform(host));
        return [t, view.weight];
      });
      evalBatch(model, device, metrics, weighted);
    }
    return await metrics.read();
  } finally {
    for (const t of viewTensors.values()) t.dispose();
  }
}

/**
 * The confusion matrix of `model` (eval mode) over a test set: counts[true class][predicted class].
 * In-house data is rarely balanced, and one accuracy hides which classes are mistaken for which.
 */
export async function confusionMatrix(model: Network, test: ImageSet, info: DatasetInfo, batchSize: number, uploader: BatchUploader): Promise<number[][]> {
  const k = info.classes.length;
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const batch of testBatches(test, info, batchSize)) {
    const device = uploader.upload(batch);
    const g = new Graph(model.backend, { record: false });
    let logits: Float32Array;
    try {
      logits = await model.forward(g, device.images, { training: false }).read();
    } finally {
      g.dispose();
    }
    for (let i = 0; i < batch.size; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (logits[i * k + c]! > logits[i * k + best]!) best = c;
      counts[batch.labels[i]!]![best]!++;
    }
  }
  return counts;
}

/** Each class's accuracy (its row's diagonal share); NaN for a class with no test images. */
export function perClassAccuracy(counts: readonly (readonly number[])[]): number[] {
  return counts.map((row, c) => row[c]! / row.reduce((a, b) => a + b, 0));
}
