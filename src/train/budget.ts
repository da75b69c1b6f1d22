/**
 * @file The budget planner: given a wall-clock budget for a whole run and step times measured
 * on this machine, choose the width and the number of epochs so that the run ends inside it.
 * Pure functions of measurements, so that the policy is testable without a clock.
 */

export interface StepMeasurement {
  width: number;
  /** Seconds per training step at the run's batch size. */
  stepSeconds: number;
  /** Test images evaluated per second (forward only). */
  evalImagesPerSecond: number;
}

export interface BudgetInput {
  /** Seconds for the whole run, data preparation and reports included. */
  budgetSeconds: number;
  /** Seconds already spent (loading data, measuring). */
  elapsedSeconds: number;
  /** Seconds per epoch spent preparing data before training (precomputing augmentation); 0 online. */
  prepareSecondsPerEpoch: number;
  trainCount: number;
  testCount: number;
  batchSize: number;
  /** The recipe's epoch count: a budget never buys more. */
  maxEpochs: number;
  /** Below this many epochs a narrower network is preferred (when the width is the planner's to choose). */
  minEpochs: number;
  /** Seconds held back for the checkpoint, charts and report at the end. */
  reserveSeconds: number;
  /**
   * Passes over the test set after the last epoch's own: the confusion matrix's, and one per
   * extra view of test-time augmentation (the fast recipe's has six views).
   */
  finalTestPasses: number;
}

export interface BudgetPlan {
  width: number;
  epochs: number;
  stepsPerEpoch: number;
  /** Predicted seconds for the whole run. */
  predictedSeconds: number;
  /** Why this plan, in one sentence (printed before training starts). */
  reason: string;
}

/** Seconds one epoch takes at this measurement: training steps plus a pass over the test set. */
export function epochSeconds(m: StepMeasurement, input: BudgetInput): number {
  const steps = Math.floor(input.trainCount / input.batchSize);
  return steps * m.stepSeconds + input.testCount / m.evalImagesPerSecond + input.prepareSecondsPerEpoch;
}

/** Seconds of the passes over the test set that follow the last epoch. */
function finalSeconds(m: StepMeasurement, input: BudgetInput): number {
  return (input.finalTestPasses * input.testCount) / m.evalImagesPerSecond;
}

/** The most epochs (up to maxEpochs) that fit; 0 when not even one does. */
export function epochsThatFit(m: StepMeasurement, input: BudgetInput): number {
  const available = input.budgetSeconds - input.elapsedSeconds - input.reserveSeconds - finalSeconds(m, input);
  const fit = Math.floor(available / epochSeconds(m, input));
  return Math.max(0, Math.min(input.maxEpochs, fit));
}

/**
 * Choose among measured widths (any order): the widest one that affords `minEpochs`; if none
 * does, the one affording the most epochs (at least one). Returns undefined when not even one
 * epoch of the narrowest fits: the run cannot meet its budget.
 */
export function planBudget(measurements: readonly StepMeasurement[], input: BudgetInput): BudgetPlan | undefined {
  const widestFirst = [...measurements].sort((a, b) => b.width - a.width);
  const options = widestFirst.map((m) => ({ m, epochs: epochsThatFit(m, input) }));
  const roomy = options.find((o) => o.epochs >= Math.min(input.minEpochs, input.maxEpochs));
  const best = roomy ?? options.reduce((a, b) => (b.epochs > a.epochs ? b : a), options[0]);
  if (!best || best.epochs < 1) return undefined;
  const predicted = input.elapsedSeconds + best.epochs * epochSeconds(best.m, input) + finalSeconds(best.m, input) + input.reserveSeconds;
  const reason = roomy
    ? `width ${best.m.width} is the widest network that affords ${best.epochs} epoch(s) (at least ${Math.min(input.minEpochs, input.maxEpochs)} wanted)`
    : `no width affords ${input.minEpochs} epochs; width ${best.m.width} affords the most (${best.epochs})`;
  return { width: best.m.width, epochs: best.epochs, stepsPerEpoch: Math.floor(input.trainCount / input.batchSize), predictedSeconds: predicted, reason };
}
