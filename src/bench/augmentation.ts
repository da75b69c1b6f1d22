/**
 * @file The article's closing experiment: does augmentation change where the model looks?
 * Train the recipe twice on one dataset, with augmentation and without, then put both models'
 * Grad-CAM heatmaps side by side, with both accuracies, in one report.
 */
import { join } from 'node:path';
import { createBackend } from '../backends/index.js';
import { writeFileAtomic } from '../core/atomic.js';
import { explainCheckpoints } from '../explain/explain.js';
import { writeChart } from '../report/charts.js';
import { datasetComparison } from '../report/curves.js';
import { writeReport } from '../report/html.js';
import { type ResultRow, resultsTableMarkdown } from '../report/results-table.js';
import { runHistory, writeRunReport } from '../report/run-report.js';
import { type TrainConfig, type TrainHooks, type TrainResult, train } from '../train/trainer.js';

export interface AugmentationExperimentOptions {
  /** The run with augmentation; the other run is the same with `augment: 'none'`. */
  config: Omit<TrainConfig, 'out'>;
  out: string;
  images: number;
  hooks?: (name: string) => TrainHooks;
}

const names = ['with augmentation', 'without augmentation'] as const;

function row(name: string, r: TrainResult): ResultRow {
  return { dataset: `${r.info.name}, ${name}`, status: 'ok', epochs: r.history.length, totalSeconds: r.timings.total, testAccuracy: r.testAccuracy };
}

export async function augmentationExperiment(o: AugmentationExperimentOptions): Promise<{ table: string; figure: string }> {
  const runs: TrainResult[] = [];
  for (const [k, name] of names.entries()) {
    const config: TrainConfig = { ...o.config, augment: k === 0 ? o.config.augment : 'none', out: join(o.out, k === 0 ? 'augmented' : 'plain') };
    const result = await train(config, o.hooks?.(name) ?? {});
    await writeRunReport(result);
    runs.push(result);
  }
  const backend = await createBackend(o.config.backend);
  let figurePng: Buffer;
  try {
    const explanation = await explainCheckpoints({
      checkpoints: runs.map((r, k) => ({ path: r.checkpoint, name: names[k] })),
      backend,
      info: runs[0].info,
      test: runs[0].test,
      images: o.images,
      seed: o.config.seed,
    });
    figurePng = explanation.figure;
  } finally {
    backend.dispose();
  }
  const figure = join(o.out, 'gradcam.png');
  await writeFileAtomic(figure, figurePng);
  const rows = runs.map((r, k) => row(names[k], r));
  const table = resultsTableMarkdown(rows);
  await writeFileAtomic(join(o.out, 'results.md'), table);
  const histories = runs.map((r, k) => ({ ...runHistory(r), name: names[k] }));
  await writeChart(join(o.out, 'curves'), datasetComparison(histories, `${runs[0].info.name}: with and without augmentation`));
  await writeReport(o.out, {
    title: `kilosecond: where does ResNet-9 look on ${runs[0].info.name}, with and without augmentation?`,
    createdAt: new Date().toISOString(),
    environment: runs[0].environment,
    benchResults: rows,
    benchHistories: histories,
    gradcam: [{ caption: 'Grad-CAM of layer3 for the predicted class: the model trained with augmentation (left) and without (right)', png: figurePng }],
  });
  return { table, figure };
}
