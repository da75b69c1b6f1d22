/**
 * @file The seed's table: the recipe on MNIST, Fashion-MNIST and CIFAR-10, one row per dataset
 * (epochs, total time, time per epoch, test accuracy), one run folder and report per dataset, and
 * one figure with the three datasets' curves side by side. A dataset whose files are not here is
 * a row marked skipped, with the reason; a run that fails is a row marked failed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { datasetNames, type DatasetName } from '../data/datasets.js';
import { writeChart } from '../report/charts.js';
import { datasetComparison, type RunHistory } from '../report/curves.js';
import { writeReport } from '../report/html.js';
import { type ResultRow, resultsTableJson, resultsTableMarkdown } from '../report/results-table.js';
import { runHistory, writeRunReport } from '../report/run-report.js';
import { train, type TrainConfig, type TrainHooks } from '../train/trainer.js';

export interface DatasetsBenchOptions {
  /** Everything but dataset and out, applied to every dataset. */
  config: Omit<TrainConfig, 'dataset' | 'out'>;
  out: string;
  datasets?: DatasetName[];
  hooks?: (dataset: DatasetName) => TrainHooks;
}

/** A missing dataset is a skip, not a failure: the loader's message says where the files go. */
function isMissingData(err: UserError, dataset: DatasetName): boolean {
  return err.message.startsWith(`${dataset}: missing file`);
}

export async function benchDatasets(o: DatasetsBenchOptions): Promise<{ rows: ResultRow[]; table: string }> {
  const rows: ResultRow[] = [];
  const histories: RunHistory[] = [];
  for (const dataset of o.datasets ?? datasetNames) {
    const config: TrainConfig = { ...o.config, dataset, out: join(o.out, dataset) };
    try {
      const result = await train(config, o.hooks?.(dataset) ?? {});
      await writeRunReport(result);
      histories.push(runHistory(result));
      rows.push({
        dataset,
        status: 'ok',
        epochs: result.history.length,
        totalSeconds: result.timings.total,
        secondsPerEpoch: result.history.length > 0 ? (result.timings.training + result.timings.evaluation) / result.history.length : undefined,
        testAccuracy: result.testAccuracy,
      });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      rows.push({ dataset, status: isMissingData(err, dataset) ? 'skipped' : 'failed', reason: err.message.split('\n')[0] });
    }
  }
  const table = resultsTableMarkdown(rows);
  // Every dataset may have been skipped, and then no run made the folder.
  await mkdir(o.out, { recursive: true });
  await writeFileAtomic(join(o.out, 'results.md'), table);
  await writeFileAtomic(join(o.out, 'results.json'), resultsTableJson(rows));
  if (histories.length > 0) await writeChart(join(o.out, 'datasets'), datasetComparison(histories, 'ResNet-9, DAWNBench recipe'));
  await writeReport(o.out, { title: 'kilosecond: are 1000 seconds enough to train?', createdAt: new Date().toISOString(), benchResults: rows, benchHistories: histories });
  return { rows, table };
}
