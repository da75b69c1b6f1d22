import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { type BudgetInput, epochSeconds, epochsThatFit, planBudget } from './budget.js';

const input: BudgetInput = {
  budgetSeconds: 1000,
  elapsedSeconds: 20,
  prepareSecondsPerEpoch: 0,
  trainCount: 60000,
  testCount: 10000,
  batchSize: 512,
  maxEpochs: 25,
  minEpochs: 8,
  reserveSeconds: 15,
  finalTestPasses: 0,
};
// 117 steps per epoch.
const w64 = { width: 64, stepSeconds: 4, evalImagesPerSecond: 400 };
const w32 = { width: 32, stepSeconds: 1.2, evalImagesPerSecond: 1300 };
const w16 = { width: 16, stepSeconds: 0.4, evalImagesPerSecond: 4000 };

it('an epoch costs its training steps plus a pass over the test set', () => {
  assert.equal(epochSeconds(w64, input), 117 * 4 + 10000 / 400);
});

it('epochsThatFit counts whole epochs inside the budget, capped by the recipe', () => {
  assert.equal(epochsThatFit(w64, input), Math.floor((1000 - 20 - 15) / (117 * 4 + 25)));
  assert.equal(epochsThatFit(w16, { ...input, budgetSeconds: 100000 }), 25);
});

it('picks the widest width that affords the minimum epochs', () => {
  const plan = planBudget([w16, w64, w32], input)!;
  // w64: 1 epoch, w32: ~6 epochs, w16: ~19 epochs -> only w16 affords 8.
  assert.equal(plan.width, 16);
  assert.equal(plan.epochs, epochsThatFit(w16, input));
  assert.ok(plan.predictedSeconds <= input.budgetSeconds);
  assert.match(plan.reason, /widest/);
});

it('with a bigger budget the wider network wins', () => {
  const plan = planBudget([w16, w32, w64], { ...input, budgetSeconds: 3000 })!; // w64: 6 epochs, w32: 20
  assert.equal(plan.width, 32);
  assert.ok(plan.epochs >= 8);
});

it('when no width affords the minimum, takes the one with the most epochs', () => {
  const plan = planBudget([w64, w32], input)!;
  assert.equal(plan.width, 32);
  assert.match(plan.reason, /affords the most/);
});

it('the passes over the test set after the last epoch (confusion matrix, test-time augmentation) are budgeted too', () => {
  const withTta = { ...input, finalTestPasses: 6 };
  // w16 evaluates 10000 images in 2.5 s: six more passes are 15 s.
  assert.equal(epochsThatFit(w16, withTta), Math.floor((1000 - 20 - 15 - 15) / epochSeconds(w16, input)));
  const plan = planBudget([w16], withTta)!;
  assert.ok(Math.abs(plan.predictedSeconds - (20 + plan.epochs * epochSeconds(w16, input) + 15 + 15)) < 1e-9);
});

it('returns undefined when not one epoch fits', () => {
  assert.equal(planBudget([w64], { ...input, budgetSeconds: 100 }), undefined);
});
