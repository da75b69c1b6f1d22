/**
 * @file Train a run for a benchmark, or take the finished run already in its folder when it was
 * trained with the same settings: benchmarks of several hour-long runs go on where they stopped.
 */
import { datasetInfo } from '../data/datasets.js';
import { augmentFor } from '../data/augment.js';
import { writeRunReport } from '../report/run-report.js';
import { train, type TrainConfig, type TrainHooks } from '../train/trainer.js';
import { finishedFromResult, readFinishedRun, type FinishedRun } from './finished-run.js';

export interface ReuseHooks {
  /** A finished run in `dir` is used instead of training. */
  onReuse?(dir: string): void;
}

export async function trainOrReuse(config: TrainConfig, hooks: TrainHooks & ReuseHooks = {}): Promise<FinishedRun> {
  const found = await readFinishedRun({ ...config, augmentation: augmentFor(config.augmentation, datasetInfo(config.dataset)) });
  if (found) {
    hooks.onReuse?.(config.out);
    return found;
  }
  // The bench's own folder: a run there with other settings is replaced.
  const result = await train({ ...config, overwrite: true }, hooks);
  await writeRunReport(result);
  return finishedFromResult(result);
}
