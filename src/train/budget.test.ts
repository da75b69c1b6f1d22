import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { type BudgetInput, type Candidate, budgetTolerance, replannedSteps, epochSeconds, epochsThatFit, planBudget, smallestBudget, stepsThatFit } from './budget.js';
import { CompressedSchedule } from './compressed-schedule.js';
import { type GridPoint, expectedAccuracy, fitExponent, gridDatasetFor } from './grid.js';

const input: BudgetInput = { budgetSeconds: 1000, elapsedSeconds: 20, trainCount: 60000, testCount: 10000, reserveSeconds: 15 };
const dawnbenchCosts = { batchSize: 512, maxEpochs: 25, minEpochs: 4, prepareSecondsPerEpoch: 0, finalTestPasses: 0 };
const fastCosts = { batchSize: 1024, maxEpochs: 20, minEpochs: 4, prepareSecondsPerEpoch: 0, finalTestPasses: 6 };
// 117 steps per epoch at batch 512, 58 at 1024.
const dawnbench = (width: number, stepSeconds: number, evalImagesPerSecond: number): Candidate =>
  ({ recipe: 'dawnbench', costs: dawnbenchCosts, measurement: { width, stepSeconds, evalImagesPerSecond } });
const fast = (width: number, stepSeconds: number, evalImagesPerSecond: number): Candidate =>
  ({ recipe: 'fast', costs: fastCosts, measurement: { width, stepSeconds, evalImagesPerSecond } });
const d64 = dawnbench(64, 4, 400);
const d32 = dawnbench(32, 1.2, 1300);
const d16 = dawnbench(16, 0.4, 4000);
const f64 = fast(64, 1, 3000);
const f32 = fast(32, 0.35, 8000);

describe('the cost of a plan', () => {
  it('an epoch costs its training steps plus a pass over the test set', () => {
    assert.equal(epochSeconds(d64, input), 117 * 4 + 10000 / 400);
  });

  it('epochsThatFit counts whole epochs inside the budget, after the final passes, capped by the recipe', () => {
    assert.equal(epochsThatFit(d64, input), Math.floor((1000 - 20 - 15) / (117 * 4 + 25)));
    // The fast recipe's six extra test passes (test-time views and the confusion matrix) come first.
    assert.equal(epochsThatFit(f64, input), Math.floor((1000 - 20 - 15 - 6 * 10000 / 3000) / epochSeconds(f64, input)));
    assert.equal(epochsThatFit(d16, { ...input, budgetSeconds: 100000 }), 25);
  });

  it('uses the budget to its end: whole epochs, then as many steps of one more as the time left buys', () => {
    const steps = stepsThatFit(d32, input);
    const whole = epochsThatFit(d32, input);
    assert.ok(steps > whole * 117 && steps < (whole + 1) * 117, `${steps} steps`);
    const plan = planBudget([d32], input, 'fashion-mnist')!;
    assert.equal(plan.steps, steps);
    assert.equal(plan.epochs, Math.ceil(1.3 * (steps / 117)), 'the schedule spans 30% more, for a run quicker than measured');
    assert.ok(plan.predictedSeconds <= 1000 && plan.predictedSeconds > 1000 - 1.2 - 25, `predicted ${plan.predictedSeconds} s`);
    assert.equal(stepsThatFit(d16, { ...input, budgetSeconds: 100000 }), 25 * 117, 'capped by the recipe');
  });

  it('names the smallest budget one epoch of the quickest candidate needs', () => {
    const smallest = smallestBudget([d64, d16], input);
    assert.equal(smallest, 20 + epochSeconds(d16, input) + 15);
    assert.equal(planBudget([d64, d16], { ...input, budgetSeconds: smallest - 0.5 }, 'fashion-mnist'), undefined);
    assert.ok(planBudget([d64, d16], { ...input, budgetSeconds: smallest + 0.5 }, 'fashion-mnist'));
  });
});

describe('the planner', () => {
  it('takes the plan the grid expects to reach the best accuracy, and says so', () => {
    const plan = planBudget([d16, d64, d32, f64, f32], input, 'fashion-mnist')!;
    const options = [d16, d64, d32, f64, f32].map((c) => {
      const steps = stepsThatFit(c, input);
      const epochs = steps / Math.floor(60000 / c.costs.batchSize);
      return { c, steps, accuracy: epochs >= 4 ? expectedAccuracy('fashion-mnist', c.recipe, c.measurement.width, epochs)!.accuracy : 0 };
    });
    const best = options.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    assert.deepEqual([plan.recipe, plan.width, plan.steps], [best.c.recipe, best.c.measurement.width, best.steps]);
    assert.equal(plan.expectedAccuracy, best.accuracy);
    assert.ok(plan.predictedSeconds <= input.budgetSeconds);
    assert.match(plan.reason, /expected to reach \d+\.\d\d% on fashion-mnist \(carried from the grid's fast width \d+ x \d+ epochs/);
    assert.match(plan.reason, /the best other, dawnbench/);
  });

  it('gives the fast recipe more than its 10 epochs when the budget affords them', () => {
    const plan = planBudget([f64], { ...input, budgetSeconds: 2000 }, 'cifar10')!;
    assert.ok(plan.epochs > 10 && plan.epochs <= 20, `${plan.epochs} epochs`);
  });

  it('prefers more epochs of a narrower network to one epoch of a wide one', () => {
    const plan = planBudget([d64, d16], { ...input, budgetSeconds: 600 }, 'cifar10')!;
    assert.equal(plan.width, 16);
  });

  it('takes no plan shorter than the grid measured while a longer one fits, and says so when none does', () => {
    // In 200 s f64 affords 2 epochs (under the 4 the grid starts at), f32 affords 7.
    const tight = { ...input, budgetSeconds: 200 };
    assert.deepEqual([epochsThatFit(f64, tight), epochsThatFit(f32, tight)], [2, 7]);
    assert.equal(planBudget([f64, f32], tight, 'cifar10')!.width, 32);
    const short = planBudget([f64], tight, 'cifar10')!;
    assert.ok(short.steps > 2 * 58 && short.steps < 3 * 58, `${short.steps} steps`);
    assert.match(short.reason, /no plan affords the 4 epochs the grid starts at/);
  });

  it('returns undefined when not one epoch fits', () => {
    assert.equal(planBudget([d64], { ...input, budgetSeconds: 100 }, 'cifar10'), undefined);
  });
});

describe('the grid model', () => {
  const point = (width: number, epochs: number, accuracy: number): GridPoint => ({ dataset: 'cifar10', recipe: 'fast', width, epochs, accuracy, source: 'test' });

  it('fits the exponent of error ∝ work^-β on the logs, within its range', () => {
    // Error halves when the work grows 8-fold: β = 1/3, clamped to 0.3.
    assert.equal(fitExponent([point(16, 4, 0.9), point(32, 16, 0.95)]), 0.3);
    // Error falls by 2^-0.1 per doubling: β = 0.1.
    const b = fitExponent([point(16, 10, 0.9), point(32, 10, 1 - 0.1 * 2 ** -0.1)])!;
    assert.ok(Math.abs(b - 0.1) < 1e-9, `${b}`);
    assert.equal(fitExponent([point(16, 10, 0.9)]), undefined, 'one point fits nothing');
  });

  it('carries the nearest point by the ratio of the works', () => {
    const points = [point(16, 10, 0.9), point(32, 10, 1 - 0.1 * 2 ** -0.1)];
    const e = expectedAccuracy('cifar10', 'fast', 64, 10, points)!;
    assert.equal(e.from, points[1]);
    assert.ok(Math.abs(1 - e.accuracy - 0.1 * 2 ** -0.2) < 1e-9);
    assert.equal(expectedAccuracy('mnist', 'fast', 64, 10, points), undefined, 'no point on that dataset');
  });

  it('stands an image folder in for the built-in set with its channel count', () => {
    assert.equal(gridDatasetFor({ name: 'photos', channels: 3 }), 'cifar10');
    assert.equal(gridDatasetFor({ name: 'scans', channels: 1 }), 'fashion-mnist');
    assert.equal(gridDatasetFor({ name: 'mnist', channels: 1 }), 'mnist');
  });
});

describe('keeping the budget while training', () => {
  const progress = { budgetSeconds: 1000, elapsedSeconds: 400, stepsDone: 300, totalSteps: 800, plannedSteps: 800, secondsPerStep: 1, secondsAfterSteps: 50 };

  it('leaves a plan that still fits alone', () => {
    assert.equal(replannedSteps(progress), undefined);
    assert.equal(replannedSteps({ ...progress, secondsPerStep: 1.1 }), undefined, '400 + 550 + 50 = 1000 s: still inside');
    assert.equal(replannedSteps({ ...progress, secondsPerStep: 0.5 }), undefined, 'ahead of the plan with every planned step taken: nothing to add');
  });

  it('cuts the steps to what the time left buys at the recent pace, aiming inside the tolerance', () => {
    // Slowed to 1.5 s per step: 400 + 750 + 50 = 1200 s. Left: 1000 - 10 - 400 - 50 = 540 s = 360 steps.
    assert.equal(budgetTolerance(1000), 20);
    assert.equal(replannedSteps({ ...progress, secondsPerStep: 1.5 }), 300 + 360);
    assert.equal(replannedSteps({ ...progress, secondsPerStep: 1000 }), 301, 'at least one step, so the schedule still ends');
  });

  it('stretches a cut plan back, up to the steps planned, when the pace comes back', () => {
    const cut = { ...progress, totalSteps: 600 };
    // At 1 s per step the 300 steps left end at 750 s, 250 s early: 540 s buy 540 steps, capped at the 500 planned.
    assert.equal(replannedSteps(cut), 800);
    assert.equal(replannedSteps({ ...cut, secondsPerStep: 1.5 }), 660);
    // Within 1.5 tolerances (30 s) of the budget: left alone.
    assert.equal(replannedSteps({ ...cut, secondsPerStep: 1.75 }), undefined, '975 s: 25 s early');
  });

  it('compresses the rest of the schedule into the steps left, so it still ends where it anneals', () => {
    const s = new CompressedSchedule(800);
    assert.equal(s.position(100), 100);
    s.compress(300, 550);
    assert.equal(s.totalSteps, 550);
    assert.equal(s.position(300), 300);
    assert.equal(s.position(550), 800, 'the last step lands on the planned end');
    assert.equal(s.position(425), 550);
    s.compress(400, 500);
    assert.equal(s.position(400), 300 + 100 * 2);
    assert.equal(s.position(500), 800);
    s.compress(450, 700);
    assert.equal(s.position(700), 800, 'stretched back, the schedule still ends on the last step');
    assert.throws(() => s.compress(500, 900), RangeError, 'never beyond the steps planned');
  });
});
