/**
 * @file Learning-rate schedules evaluated per step. The one-cycle shape of the DAWNBench recipe
 * is piecewise linear: 0 at the start, the peak at epoch 5, 0 at the end.
 */
import { msg, setting, UserError } from '../core/errors.js';

/** A piecewise-linear function through (x, y) knots with increasing x; constant beyond the ends. */
export function piecewiseLinear(knots: ReadonlyArray<readonly [number, number]>): (x: number) => number {
  if (knots.length === 0) throw new Error('piecewiseLinear needs at least one knot');
  for (let i = 1; i < knots.length; i++) {
    if (!(knots[i][0] > knots[i - 1][0])) throw new Error(`knots must have increasing x: ${JSON.stringify(knots)}`);
  }
  return (x) => {
    if (x <= knots[0][0]) return knots[0][1];
    for (let i = 1; i < knots.length; i++) {
      const [x1, y1] = knots[i];
      if (x <= x1) {
        const [x0, y0] = knots[i - 1];
        return y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
      }
    }
    return knots[knots.length - 1][1];
  };
}

export interface OneCycleOptions {
  peak: number;
  /** Epoch at which the rate peaks (5 in the recipe); clipped to the run's length. */
  peakEpoch: number;
  epochs: number;
  stepsPerEpoch: number;
}

/**
 * lr(step), with the step counted from 0 and the rate for step s taken at epoch s / stepsPerEpoch:
 * linear 0 -> peak over the first `peakEpoch` epochs, then linear peak -> 0 at the end.
 */
export function oneCycle(o: OneCycleOptions): (step: number) => number {
  if (!(o.epochs > 0) || !(o.stepsPerEpoch > 0)) throw new UserError(`a schedule needs epochs > 0 and steps per epoch > 0 (got ${o.epochs}, ${o.stepsPerEpoch})`);
  if (!(o.peak > 0)) throw new UserError(msg`${setting('lr')} must be positive (got ${o.peak})`);
  // Short runs keep the recipe's shape: the peak moves to 5/24 of the run when the run is shorter.
  const peakEpoch = Math.min(o.peakEpoch, (o.epochs * 5) / 24);
  const lr = piecewiseLinear([[0, 0], [peakEpoch, o.peak], [o.epochs, 0]]);
  return (step) => lr(step / o.stepsPerEpoch);
}
