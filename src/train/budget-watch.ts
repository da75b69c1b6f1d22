/**
 * @file Keeping a budget while training: after each step, whether the steps left still end where
 * the budget says at the recent pace, and if not the re-plan that makes them (budget.ts decides
 * how many steps; compressed-schedule.ts re-shapes the rest of the schedule into them).
 */
import { type Replan, replannedSteps } from './budget.js';
import type { CompressedSchedule } from './compressed-schedule.js';

/** A budgeted run's promise, watched while it trains. */
export interface BudgetWatch {
  seconds: number;
  /** When the run started, on the run's clock (milliseconds). */
  runStart: number;
  /** Predicted seconds of one epoch's evaluation, and of the passes after the last epoch, with the reserve. */
  evalSecondsPerEpoch: number;
  finalSeconds: number;
}

/**
 * The fewest steps a re-plan's step time is measured over: all the steps since the epoch began
 * or the last re-plan was made count (a few steps alone vary by 10%, enough to cut and stretch
 * the plan by turns).
 */
const replanWindow = 8;

/**
 * After a step of a budgeted run: when the steps left no longer end where the budget says at
 * the recent step time, compress (or stretch back) the rest of the schedule into the steps that
 * do, and record why. The evaluations still to come (one per epoch left, and the final passes)
 * are counted at the plan's estimate. `recentSteps` holds the clock after each recent step.
 */
export function replanIfLate(
  budget: BudgetWatch, schedule: CompressedSchedule, stepsDone: number, recentSteps: readonly number[], stepsPerEpoch: number,
  since: (t: number) => number,
): Replan | undefined {
  if (recentSteps.length <= replanWindow) return undefined;
  // The mean step, less any over 3x the median: a pause (the process stopped, swapped out) is one
  // long step whose time the elapsed seconds already count; taken as the pace, it cut a run
  // stopped for 60 s to 25 steps (BENCHMARKS.md). What recurs (the weight average every 5th step) stays in.
  const durations = recentSteps.slice(1).map((t, i) => t - recentSteps[i]!);
  const median = [...durations].sort((a, b) => a - b)[durations.length >> 1]!;
  const steady = durations.filter((d) => d <= 3 * median);
  const secondsPerStep = steady.reduce((a, b) => a + b, 0) / steady.length / 1000;
  const epochsToEvaluate = Math.ceil(schedule.totalSteps / stepsPerEpoch) - Math.floor(stepsDone / stepsPerEpoch);
  const progress = {
    budgetSeconds: budget.seconds, elapsedSeconds: since(budget.runStart), stepsDone, totalSteps: schedule.totalSteps, plannedSteps: schedule.plannedSteps, secondsPerStep,
    secondsAfterSteps: epochsToEvaluate * budget.evalSecondsPerEpoch + budget.finalSeconds,
  };
  const affordable = replannedSteps(progress);
  if (affordable === undefined) return undefined;
  const how = affordable < schedule.totalSteps ? 'compressed into' : 'stretched back over';
  const replan: Replan = {
    after_step: stepsDone, elapsed_seconds: progress.elapsedSeconds, steps_before: schedule.totalSteps, steps_after: affordable, seconds_per_step: secondsPerStep,
    reason: `at ${secondsPerStep.toFixed(3)} s per step the ${schedule.totalSteps - stepsDone} steps left would end at ` +
      `${(progress.elapsedSeconds + (schedule.totalSteps - stepsDone) * secondsPerStep + progress.secondsAfterSteps).toFixed(0)} s of a ${budget.seconds} s budget: ` +
      `the rest of the schedule is ${how} ${affordable - stepsDone} steps`,
  };
  schedule.compress(stepsDone, affordable);
  return replan;
}
