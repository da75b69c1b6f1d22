import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { oneCycle, piecewiseLinear } from './schedule.js';

it('piecewiseLinear interpolates between knots and holds its ends', () => {
  const f = piecewiseLinear([[0, 0], [5, 0.4], [24, 0]]);
  assert.equal(f(-1), 0);
  assert.equal(f(0), 0);
  assert.ok(Math.abs(f(2.5) - 0.2) < 1e-12);
  assert.equal(f(5), 0.4);
  assert.ok(Math.abs(f(14.5) - 0.2) < 1e-12);
  assert.equal(f(24), 0);
  assert.equal(f(30), 0);
});

it('piecewiseLinear rejects knots that do not increase', () => {
  assert.throws(() => piecewiseLinear([[0, 0], [0, 1]]), /increasing/);
});

it('oneCycle is evaluated per step: 0 at step 0, the peak at epoch 5, 0 at the end', () => {
  const lr = oneCycle({ peak: 0.4, peakEpoch: 5, epochs: 25, stepsPerEpoch: 100 });
  assert.equal(lr(0), 0);
  assert.ok(Math.abs(lr(1) - 0.4 / 500) < 1e-12, 'rises by peak / (5 epochs of steps) each step');
  assert.ok(Math.abs(lr(500) - 0.4) < 1e-12);
  assert.ok(lr(499) < lr(500) && lr(501) < lr(500));
  assert.ok(Math.abs(lr(2500)) < 1e-12);
});

it('oneCycle keeps the recipe shape on short runs (peak at 5/24 of the run)', () => {
  const lr = oneCycle({ peak: 1, peakEpoch: 5, epochs: 12, stepsPerEpoch: 24 });
  const steps = Array.from({ length: 12 * 24 }, (_, s) => lr(s));
  const peakStep = steps.indexOf(Math.max(...steps));
  assert.equal(peakStep, (12 * 24 * 5) / 24);
});

it('oneCycle rejects a non-positive learning rate naming the config field', () => {
  assert.throws(() => oneCycle({ peak: 0, peakEpoch: 5, epochs: 2, stepsPerEpoch: 1 }), /^UserError: lr must be positive \(got 0\)$/);
});
