/**
 * @file The run's steps mapped onto its planned learning-rate schedule. Until a re-plan the map
 * is the identity. When the budget can no longer afford the steps planned (the machine slowed),
 * the rest of the schedule, from where the run stands to its end, is compressed into the steps
 * still affordable: the rate still warms down to its final value on the run's last step, which
 * is what makes a short schedule end well (stopping part-way would leave the rate high). A later
 * re-plan may stretch it back, up to the steps planned.
 */
export class CompressedSchedule {
  /** The step of the last re-plan, where it stood on the planned schedule, and the planned steps per run step since. */
  private anchorStep = 0;
  private anchorPosition = 0;
  private stride = 1;
  private total: number;

  constructor(readonly plannedSteps: number) {
    this.total = plannedSteps;
  }

  /** The steps the run trains in all. */
  get totalSteps(): number {
    return this.total;
  }

  /** Where run step `step` (0-based, not before the last re-plan) falls on the planned schedule. */
  position(step: number): number {
    return this.anchorPosition + (step - this.anchorStep) * this.stride;
  }

  /** From `stepsDone` on, the rest of the planned schedule in `totalSteps - stepsDone` steps. */
  compress(stepsDone: number, totalSteps: number): void {
    if (!(totalSteps > stepsDone && totalSteps <= this.plannedSteps)) throw new RangeError(`a re-plan to ${totalSteps} steps after ${stepsDone} of ${this.plannedSteps} planned`);
    this.anchorPosition = this.position(stepsDone);
    this.anchorStep = stepsDone;
    this.stride = (this.plannedSteps - this.anchorPosition) / (totalSteps - stepsDone);
    this.total = totalSteps;
  }
}
