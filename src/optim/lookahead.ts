/**
 * @file Lookahead over a moving average of the weights (the scheme hlb-CIFAR10 and airbench
 * train with): every few steps the average moves towards the weights, ema += (1 - decay) *
 * (w - ema), and the weights jump back to it. One `lerp` and one copy per tensor.
 */
import { Tensor } from '../core/tensor.js';

export class Lookahead {
  /** The moving averages, one per tensor, in the constructor's order. */
  readonly averages: readonly Tensor[];

  /** `tensors`: what is averaged (parameters, and whatever else should move with them). */
  constructor(private readonly tensors: readonly Tensor[]) {
    this.averages = tensors.map((t) => {
      const average = Tensor.empty(t.backend, t.shape);
      t.backend.copy(t.buffer, average.buffer);
      return average;
    });
  }

  /** ema = ema + (1 - decay) * (w - ema); then w = ema. decay 0 keeps w, decay 1 restores the average. */
  step(decay: number): void {
    this.tensors.forEach((t, i) => {
      const average = this.averages[i]!;
      t.backend.lerp({ a: average.buffer, b: t.buffer }, { t: 1 - decay, length: t.size });
      t.backend.copy(average.buffer, t.buffer);
    });
  }

  dispose(): void {
    for (const a of this.averages) a.dispose();
  }
}
