/**
 * @file Train a run for a benchmark, or take the finished run already in its folder when it was
 * trained with the same settings on the same data: benchmarks of several hour-long runs go on
 * where they stopped.
 */
import { createBackend } from '../backends/index.js';
import type { OpenedDataset } from '../data/open.js';
import { writeRunReport } from '../report/run-report.js';
import { configForData } from '../train/run-data.js';
import { train, type TrainHooks } from '../train/trainer.js';
import { type TrainConfig } from '../train/settings.js';
import { finishedFromResult, readFinishedRun, type FinishedRun } from './finished-run.js';

export interface ReuseHooks {
  /** A finished run in `dir` is used instead of training. */
  onReuse?(dir: string): void;
}

/** `data` is the dataset as `config` opens it (openRunData): its settings decide what a run trains, and it is trained on as it is. */
export async function trainOrReuse(config: TrainConfig, data: OpenedDataset, hooks: TrainHooks & ReuseHooks = {}): Promise<FinishedRun> {
  const found = await readFinishedRun(configForData(config, data), data.sources);
  if (found) {
    hooks.onReuse?.(config.out);
    return found;
  }
  // The bench's own folder: a run there with other settings is replaced.
  const result = await train({ ...config, overwrite: true }, hooks, { createBackend, openData: () => Promise.resolve(data) });
  await writeRunReport(result);
  return finishedFromResult(result);
}
