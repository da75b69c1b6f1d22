/**
 * @file Softmax cross-entropy with label smoothing, mean over the batch (PyTorch's
 * F.cross_entropy(logits, labels, label_smoothing=s)).
 */
import { defineOp } from '../op.js';
import { expectShape, type Tensor } from '../tensor.js';

/** logits [n, k], labels [n] (class indices stored as floats) -> loss [1]. */
export const crossEntropy = defineOp('crossEntropy', (g, logits: Tensor, labels: Tensor, smoothing: number = 0) => {
  const [n, k] = logits.shape;
  expectShape('cross-entropy labels', labels, [n]);
  const probs = g.empty([n, k]);
  const loss = g.empty([1]);
  const s = { n, k, smoothing };
  g.backend.crossEntropy({ logits: logits.buffer, labels: labels.buffer, probs: probs.buffer, loss: loss.buffer }, s);
  return {
    inputs: [logits, labels], output: loss, saves: [probs],
    backward: (gloss, needs) => {
      if (needs(1)) throw new Error('crossEntropy: the labels are class indices, which have no gradient');
      // d loss / d logits = (softmax(logits) - target) / n.
      const glogits = g.empty(logits.shape);
      g.backend.crossEntropyBackward({ probs: probs.buffer, labels: labels.buffer, gloss: gloss.buffer, glogits: glogits.buffer }, s);
      return [glogits, undefined];
    },
  };
});
