/**
 * @file Softmax cross-entropy with label smoothing, mean over the batch (PyTorch's
 * F.cross_entropy(logits, labels, label_smoothing=s)).
 */
import type { Graph } from '../graph.js';
import { expectShape, type Tensor } from '../tensor.js';

/** logits [n, k], labels [n] (class indices stored as floats) -> loss [1]. */
export function crossEntropy(g: Graph, logits: Tensor, labels: Tensor, smoothing = 0): Tensor {
  const [n, k] = logits.shape;
  expectShape('cross-entropy labels', labels, [n]);
  const probs = g.empty([n, k]);
  const loss = g.empty([1]);
  g.backend.crossEntropy(logits.buffer, labels.buffer, probs.buffer, loss.buffer, n, k, smoothing);
  g.record([logits, labels], loss, [probs], (gloss) => {
    // d loss / d logits = (softmax(logits) - target) / n.
    const glogits = g.empty(logits.shape);
    g.backend.crossEntropyBackward(probs.buffer, labels.buffer, gloss.buffer, glogits.buffer, n, k, smoothing);
    return [glogits, undefined];
  });
  return loss;
}
