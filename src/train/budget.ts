/**
 * @file The budget planner: given a wall-clock budget for a whole run and step times measured
 * on this machine, choose the recipe, the width and the number of epochs that the grid
 * (grid.ts) expects to reach the best test accuracy inside it; and, once training runs, how many
 * steps are still affordable when the machine turns out slower than measured. Pure functions of
 * measurements, so that the policy is testable without a clock.
 */
import { type Expectation, type GridPoint, expectedAccuracy } from './grid.js';
import type { StepMemory } from './memory-plan.js';
import type { RecipeName } from './recipes.js';

export interface StepMeasurement {
  width: number;
  /** Seconds per training step at the recipe's batch size. */
  stepSeconds: number;
  /** Test images evaluated per second (forward only). */
  evalImagesPerSecond: number;
  /** What a step holds in the backend, where it was measured. */
  memory?: StepMemory;
}

/** What a recipe's run costs besides its steps, and how long it may be. */
export interface RecipeCosts {
  batchSize: number;
  /** The most epochs the planner may give the recipe. */
  maxEpochs: number;
  /**
   * The fewest it should: shorter schedules are outside what the grid measured, and can fail
   * outright (one epoch of the fast recipe warms up to its peak rate in 13 steps and diverged on
   * MNIST). Taken only when no candidate affords this many.
   */
  minEpochs: number;
  /** Seconds per epoch spent preparing data before training (precomputing augmentation); 0 online. */
  prepareSecondsPerEpoch: number;
  /**
   * Passes over the test set after the last epoch's own: the confusion matrix's, and one per
   * extra view of test-time augmentation (the fast recipe's has six views).
   */
  finalTestPasses: number;
}

export interface BudgetInput {
  /** Seconds for the whole run, data preparation and reports included. */
  budgetSeconds: number;
  /** Seconds already spent (loading data, measuring). */
  elapsedSeconds: number;
  trainCount: number;
  testCount: number;
  /** Seconds held back for the checkpoint, charts and report at the end. */
  reserveSeconds: number;
}

/** One recipe at one width, measured on this machine. */
export interface Candidate {
  recipe: RecipeName;
  costs: RecipeCosts;
  measurement: StepMeasurement;
}

export interface BudgetPlan {
  recipe: RecipeName;
  width: number;
  /**
   * The epochs the schedule spans and the data is prepared for: those the steps begin, and up to
   * `headroom` more, for the training to stretch into when it runs faster than measured.
   */
  epochs: number;
  /** The steps planned: the schedule is compressed into them from the start. */
  steps: number;
  stepsPerEpoch: number;
  /** Predicted seconds for the whole run. */
  predictedSeconds: number;
  /** What the grid expects the plan to reach (0..1); absent where it has no point of the recipe. */
  expectedAccuracy?: number;
  /** Why this plan, in one or two sentences (printed before training starts). */
  reason: string;
  /** Predicted seconds of an epoch's pass over the test set, and of what follows the last step (final passes, reserve). */
  evalSecondsPerEpoch: number;
  finalSeconds: number;
  /** Each time training found the plan no longer fit and compressed it, in order (none when the machine kept its pace). */
  replans: Replan[];
}

/** A re-plan while training, as summary.json records it. */
export interface Replan {
  /** Steps trained when it was made. */
  after_step: number;
  elapsed_seconds: number;
  /** The run's total steps before and after. */
  steps_before: number;
  steps_after: number;
  /** The recent step time it was based on. */
  seconds_per_step: number;
  reason: string;
}

const stepsPerEpoch = (c: Candidate, input: BudgetInput): number => Math.floor(input.trainCount / c.costs.batchSize);

/**
 * How much longer than planned a run may stretch, when its steps turn out quicker than measured:
 * the step timed at a quarter batch overestimated a width-32 run's by 26% (BENCHMARKS.md). The
 * data is prepared for the extra epochs (seconds), and training re-plans into them (budget kept).
 */
export const headroom = 1.3;

/** Seconds one epoch takes: training steps plus a pass over the test set. */
export function epochSeconds(c: Candidate, input: BudgetInput): number {
  return stepsPerEpoch(c, input) * c.measurement.stepSeconds + input.testCount / c.measurement.evalImagesPerSecond + c.costs.prepareSecondsPerEpoch;
}

/** Seconds of the passes over the test set that follow the last epoch. */
function finalSeconds(c: Candidate, input: BudgetInput): number {
  return (c.costs.finalTestPasses * input.testCount) / c.measurement.evalImagesPerSecond;
}

/** The most epochs (up to the recipe's maximum) that fit; 0 when not even one does. */
export function epochsThatFit(c: Candidate, input: BudgetInput): number {
  const available = input.budgetSeconds - input.elapsedSeconds - input.reserveSeconds - finalSeconds(c, input);
  return Math.max(0, Math.min(c.costs.maxEpochs, Math.floor(available / epochSeconds(c, input))));
}

/** Seconds a run of `steps` steps of `c` takes in all, from the run's start: each epoch begun is evaluated. */
function predictedSeconds(c: Candidate, steps: number, input: BudgetInput): number {
  const epochs = Math.ceil(steps / stepsPerEpoch(c, input));
  const perEpoch = input.testCount / c.measurement.evalImagesPerSecond + c.costs.prepareSecondsPerEpoch;
  return input.elapsedSeconds + steps * c.measurement.stepSeconds + epochs * perEpoch + finalSeconds(c, input) + input.reserveSeconds;
}

/**
 * The most steps that fit (up to the recipe's maximum epochs): whole epochs, and of the next
 * one as many steps as the time left buys, so that the budget is used to its end rather than to
 * the last whole epoch (a third of a budget was left unused that way). The schedule is compressed
 * into them from the start (CompressedSchedule). 0 when not even one epoch fits.
 */
export function stepsThatFit(c: Candidate, input: BudgetInput): number {
  const whole = epochsThatFit(c, input);
  if (whole === 0) return 0;
  const perEpoch = stepsPerEpoch(c, input);
  if (whole >= c.costs.maxEpochs) return whole * perEpoch;
  const left = input.budgetSeconds - predictedSeconds(c, whole * perEpoch, input) - (input.testCount / c.measurement.evalImagesPerSecond + c.costs.prepareSecondsPerEpoch);
  return whole * perEpoch + Math.max(0, Math.min(perEpoch, Math.floor(left / c.measurement.stepSeconds)));
}

/** The smallest budget in which one epoch of some candidate fits (what a refused budget should have been). */
export function smallestBudget(candidates: readonly Candidate[], input: BudgetInput): number {
  return Math.min(...candidates.map((c) => predictedSeconds(c, stepsPerEpoch(c, input), input)));
}

const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;
const describe = (c: Candidate, epochs: number): string => `${c.recipe} width ${c.measurement.width}, ${+epochs.toFixed(2)} epoch(s)`;

function expectationText(e: Expectation): string {
  return `carried from the grid's ${e.from.recipe} width ${e.from.width} x ${e.from.epochs} epochs (${percent(e.from.accuracy)}) by error ∝ work^-${e.exponent.toFixed(2)}`;
}

/**
 * Choose among measured candidates (any order): each gets the most epochs that fit, and the
 * plan is the one the grid expects to reach the best test accuracy on `dataset` (ties: the
 * quicker). A candidate whose recipe has no grid point there ranks below all that have one, the
 * widest first. Returns undefined when not even one epoch of any candidate fits.
 */
export function planBudget(candidates: readonly Candidate[], input: BudgetInput, dataset: GridPoint['dataset']): BudgetPlan | undefined {
  const fitting = candidates.map((c) => ({ c, steps: stepsThatFit(c, input) })).filter((o) => o.steps >= 1)
    .map((o) => ({ ...o, epochs: o.steps / stepsPerEpoch(o.c, input) }));
  const inRange = fitting.filter((o) => o.epochs >= o.c.costs.minEpochs);
  const options = (inRange.length > 0 ? inRange : fitting)
    .map((o) => ({ ...o, expected: expectedAccuracy(dataset, o.c.recipe, o.c.measurement.width, o.epochs), seconds: predictedSeconds(o.c, o.steps, input) }));
  if (options.length === 0) return undefined;
  // A plan the grid has no point for ranks below every plan it has one for, the widest first.
  const score = (o: (typeof options)[number]): number => (o.expected ? o.expected.accuracy : -1 + o.c.measurement.width * 1e-6);
  const ranked = [...options].sort((a, b) => score(b) - score(a) || a.seconds - b.seconds);
  const best = ranked[0]!;
  const runnerUp = ranked.find((o) => o.c.recipe !== best.c.recipe) ?? ranked[1];
  const short = inRange.length === 0 ? ` (no plan affords the ${best.c.costs.minEpochs} epochs the grid starts at: this budget is short for this machine)` : '';
  const why = best.expected
    ? `${describe(best.c, best.epochs)}${short} fits and is expected to reach ${percent(best.expected.accuracy)} on ${dataset} (${expectationText(best.expected)})`
    : `${describe(best.c, best.epochs)} fits; the grid has no ${best.c.recipe} point for ${dataset}, so the widest network that fits was taken`;
  const other = runnerUp?.expected ? `; the best other, ${describe(runnerUp.c, runnerUp.epochs)}: ${percent(runnerUp.expected.accuracy)}` : '';
  return {
    recipe: best.c.recipe,
    width: best.c.measurement.width,
    epochs: Math.min(best.c.costs.maxEpochs, Math.ceil(headroom * best.epochs)),
    steps: best.steps,
    stepsPerEpoch: stepsPerEpoch(best.c, input),
    predictedSeconds: best.seconds,
    ...(best.expected ? { expectedAccuracy: best.expected.accuracy } : {}),
    reason: why + other,
    evalSecondsPerEpoch: input.testCount / best.c.measurement.evalImagesPerSecond,
    finalSeconds: finalSeconds(best.c, input) + input.reserveSeconds,
    replans: [],
  };
}

/** Where a budgeted run stands, read after a step. */
export interface RunProgress {
  budgetSeconds: number;
  elapsedSeconds: number;
  stepsDone: number;
  /** The steps the run plans to train in all, as the last re-plan left them. */
  totalSteps: number;
  /** The steps of the plan made before training: a re-plan never goes beyond them. */
  plannedSteps: number;
  /** Seconds per step lately, as measured in this run. */
  secondsPerStep: number;
  /** Seconds of the evaluations still to come (each remaining epoch's, and the final passes) and the reserve. */
  secondsAfterSteps: number;
}

/** Allowed overshoot of a prediction before the plan is cut: 2% of the budget or 3 s, as the goal allows. */
export function budgetTolerance(budgetSeconds: number): number {
  return Math.max(3, 0.02 * budgetSeconds);
}

/**
 * The run's new total of steps, when the one planned no longer ends where it should: past the
 * budget (the machine slowed), or, after a cut, well before it (the pace came back, or the cut
 * was made on a few slow steps). Either way as many steps as the time left buys at the recent
 * pace, aiming half the tolerance inside the budget; never fewer than one more (the schedule
 * must still end) nor more than were planned. Undefined while the plan still fits.
 */
export function replannedSteps(p: RunProgress): number | undefined {
  const tolerance = budgetTolerance(p.budgetSeconds);
  const predicted = p.elapsedSeconds + (p.totalSteps - p.stepsDone) * p.secondsPerStep + p.secondsAfterSteps;
  const late = predicted > p.budgetSeconds;
  const early = p.totalSteps < p.plannedSteps && predicted < p.budgetSeconds - 1.5 * tolerance;
  if (!late && !early) return undefined;
  const left = p.budgetSeconds - tolerance / 2 - p.elapsedSeconds - p.secondsAfterSteps;
  const steps = Math.min(p.plannedSteps - p.stepsDone, Math.max(1, Math.floor(left / p.secondsPerStep)));
  return p.stepsDone + steps === p.totalSteps ? undefined : p.stepsDone + steps;
}
