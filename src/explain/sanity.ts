/**
 * @file The model-randomisation sanity check of Adebayo et al. 2018 ("Sanity Checks for
 * Saliency Maps"): a saliency method that explains the model must change its maps when the
 * model's learned weights are replaced by random ones. Maps that survive randomisation are
 * describing the input (edges, bright spots), not the model.
 */
import { createNetwork } from '../nn/create-network.js';
import type { Network } from '../nn/network.js';

/**
 * Cascading randomisation of the layers nearest the output (`network.topLayers`: ResNet-9's
 * layer3 and classifier): their weights, BN affine parameters and running statistics get the
 * values a freshly constructed network with `seed` has, as PyTorch's `reset_parameters` would
 * give them.
 */
export async function randomiseTopLayers(model: Network, seed: number): Promise<void> {
  const fresh = createNetwork(model.backend, model.config, seed);
  try {
    const isTop = (name: string): boolean => model.topLayers.some((prefix) => name.startsWith(prefix));
    const freshItems = new Map(fresh.state().map((item) => [item.name, item]));
    for (const item of model.state()) {
      if (!isTop(item.name)) continue;
      const source = freshItems.get(item.name)!;
      if (item.kind === 'counter') item.bn.batchesTracked = 0;
      else if (source.kind !== 'counter') item.tensor.write(await source.tensor.read());
    }
  } finally {
    fresh.dispose();
  }
}

/** Ranks 1..n, ties sharing their average rank (as scipy.stats.rankdata does). */
function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + end + 1) / 2;
    for (let k = start; k < end; k++) out[order[k]!] = rank;
    start = end;
  }
  return out;
}

/**
 * Spearman's rank correlation of two equally long samples: Pearson's correlation of their
 * ranks. A constant sample has no ordering to agree with, so its correlation is taken as 0
 * (scipy returns NaN there).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: samples of ${a.length} and ${b.length} values`);
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length + 1) / 2;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < ra.length; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Mean over images of the Spearman correlation between two sets of maps [n, size]. */
export function meanMapCorrelation(first: Float32Array, second: Float32Array, n: number): number {
  if (first.length !== second.length || first.length % n !== 0) throw new Error(`map sets of ${first.length} and ${second.length} values for ${n} images`);
  const size = first.length / n;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += spearman(first.subarray(i * size, (i + 1) * size), second.subarray(i * size, (i + 1) * size));
  return sum / n;
}
