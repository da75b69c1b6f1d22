/**
 * @file Opening a run's backend in the precision it trains in (Node: it opens backends by name,
 * the native addon's included).
 */
import { type BackendOptions, cpuBf16Available } from '../backends/index.js';
import type { Backend } from '../core/backend.js';
import type { Precision } from '../core/precision.js';
import type { DatasetInfo } from '../data/datasets.js';
import { measureWidths } from './plan-run.js';
import { type PrecisionChoice, choosePrecision } from './precision.js';
import { type TrainConfig, recipeDefaults } from './settings.js';

/**
 * The run's backend in the precision it trains in: the resumed run's (float32 for a run saved
 * before precision was a setting), or as asked, or for 'auto' the faster of float32 and bf16 on
 * one training step of the run's network (the other backend is disposed).
 */
export async function openRunBackend(
  config: TrainConfig, info: DatasetInfo, resumed: { precision?: Precision } | undefined,
  create: (name: string, options?: BackendOptions) => Promise<Backend>, now: () => number, onPhase?: (phase: string) => void,
): Promise<{ backend: Backend; choice: PrecisionChoice }> {
  if (resumed) {
    const precision = resumed.precision ?? 'fp32';
    return { backend: await create(config.backend, { precision }), choice: { precision, reason: `${precision}, as the run being resumed trained` } };
  }
  const opened = new Map<Precision, Backend>();
  const open = async (precision: Precision): Promise<Backend> => {
    if (!opened.has(precision)) opened.set(precision, await create(config.backend, { precision }));
    return opened.get(precision)!;
  };
  try {
    const choice = await choosePrecision(config.precision ?? 'auto', {
      backend: config.backend,
      bf16Available: config.backend === 'cpu' && (await cpuBf16Available()),
      stepSeconds: async (precision) => {
        onPhase?.(`timing a ${precision} training step`);
        const [m] = await measureWidths(await open(precision), info, config, [config.width ?? recipeDefaults[config.recipe].width], now);
        return m!.stepSeconds;
      },
    });
    const backend = await open(choice.precision);
    for (const [precision, other] of opened) if (precision !== choice.precision) other.dispose();
    return { backend, choice };
  } catch (err) {
    for (const b of opened.values()) b.dispose();
    throw err;
  }
}
