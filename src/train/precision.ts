/**
 * @file Which precision a run trains in (docs/precision.md): the user's setting, or for 'auto'
 * the faster of float32 and bf16 on this machine, measured as the budget planner measures widths.
 * A pure policy over a step timer, so that it is testable without a clock.
 */
import { msg, setting, UserError } from '../core/errors.js';
import type { Precision } from '../core/precision.js';

/** 'auto' picks bf16 where this machine trains faster in it, float32 otherwise. */
export type PrecisionSetting = Precision | 'auto';
export const precisionSettings: readonly PrecisionSetting[] = ['auto', 'fp32', 'bf16'];

export interface PrecisionChoice {
  precision: Precision;
  /** Why, in one sentence (printed before training, kept in summary.json and the report). */
  reason: string;
  /** Seconds per training step of each precision measured, when 'auto' measured them. */
  stepSeconds?: Partial<Record<Precision, number>>;
}

export interface PrecisionContext {
  /** The backend's name: only 'cpu' has bf16 kernels today. */
  backend: string;
  /** Whether this CPU has bf16 matrix units (AMX or AVX512-BF16) the cpu backend can use. */
  bf16Available: boolean;
  /** Seconds of one training step of the run's network in `precision`. */
  stepSeconds(precision: Precision): Promise<number>;
}

export async function choosePrecision(asked: PrecisionSetting, c: PrecisionContext): Promise<PrecisionChoice> {
  const bf16Here = c.backend === 'cpu' && c.bf16Available;
  if (asked === 'fp32') return { precision: 'fp32', reason: 'float32, as asked' };
  if (asked === 'bf16') {
    const instead = msg`use ${setting('precision', 'fp32')} or ${setting('precision', 'auto')}`;
    if (c.backend !== 'cpu') throw new UserError(msg`${setting('precision', 'bf16')} runs on the cpu backend only (AMX or AVX512-BF16); the ${c.backend} backend trains in float32: ${instead}`);
    if (!bf16Here) throw new UserError(msg`${setting('precision', 'bf16')} needs a CPU with AMX or AVX512-BF16, and this one has neither: ${instead}`);
    return { precision: 'bf16', reason: 'bf16 convolutions, as asked' };
  }
  if (!bf16Here) {
    const why = c.backend === 'cpu' ? 'this CPU has neither AMX nor AVX512-BF16' : `the ${c.backend} backend has no bf16 kernels`;
    return { precision: 'fp32', reason: `float32: ${why}` };
  }
  const fp32 = await c.stepSeconds('fp32');
  const bf16 = await c.stepSeconds('bf16');
  const precision: Precision = bf16 < fp32 ? 'bf16' : 'fp32';
  const ratio = precision === 'bf16' ? fp32 / bf16 : bf16 / fp32;
  return {
    precision,
    reason: `${precision === 'bf16' ? 'bf16 convolutions' : 'float32'}: a training step took ${(Math.min(fp32, bf16)).toFixed(3)} s against ` +
      `${Math.max(fp32, bf16).toFixed(3)} s in ${precision === 'bf16' ? 'float32' : 'bf16'} (${ratio.toFixed(2)}x) on this machine`,
    stepSeconds: { fp32, bf16 },
  };
}
