/**
 * @file The seed's table: the recipe on MNIST, Fashion-MNIST and CIFAR-10, one row per dataset
 * (width, epochs, accuracy, total time and its phases, images/s), one run folder and report per
 * dataset, and one combined report: the table, the datasets' curves side by side and each
 * dataset's Grad-CAM grid (beside the model trained without augmentation, with
 * `compareAugmentation`). A folder of images is a dataset too, named by the folder. A built-in
 * dataset whose files are not here is a row marked skipped, with the reason; a run that fails is a
 * row marked failed. Finished runs with the same settings on the same data are reused.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createBackend } from '../backends/index.js';
import { Message, msg, UserError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { datasetNames, type DatasetInfo, type ImageSet } from '../data/datasets.js';
import { datasetRunName, isBuiltinDataset } from '../data/open.js';
import { explainCheckpoints } from '../explain/explain.js';
import { defaultExplainImages } from '../explain/select.js';
import { writeChart } from '../report/charts.js';
import { datasetComparison, type RunHistory } from '../report/curves.js';
import { writeReport, type Figure } from '../report/html.js';
import { type ResultRow, resultsTableJson, resultsTableMarkdown } from '../report/results-table.js';
import type { TrainHooks } from '../train/trainer.js';
import { openRunData } from '../train/run-data.js';
import { recipeCandidates } from '../train/plan-run.js';
import { type RecipeName, recipes } from '../train/recipes.js';
import { type TrainSettings, recipeDefaults, resolveSettings } from '../train/settings.js';
import type { FinishedRun } from './finished-run.js';
import { trainOrReuse, type ReuseHooks } from './train-or-reuse.js';

export interface DatasetsBenchOptions {
  /**
   * Everything but dataset and out, applied to every dataset; a recipe left out or 'auto' is the
   * one `train` runs on the dataset's images without a budget (the fast recipe where they allow:
   * plan-run.ts), the same for both runs of a dataset so that their Grad-CAM maps compare one network.
   */
  settings: Omit<TrainSettings, 'dataset' | 'out'>;
  out: string;
  /** Built-in dataset names or folders of images (all three built-in datasets when left out). */
  datasets?: readonly string[];
  hooks?: (run: string) => TrainHooks & ReuseHooks;
  /** Also train each dataset without augmentation and show the two models' Grad-CAM side by side. */
  compareAugmentation?: boolean;
  /** Test images in each dataset's Grad-CAM grid. */
  gradcamImages?: number;
  /** The report's title, given the networks trained (their names, joined). */
  title?: (network: string) => string;
}

/** A built-in dataset's missing files are a skip, not a failure: the loader's message says where the files go. */
function isMissingData(err: UserError, dataset: string): boolean {
  return isBuiltinDataset(dataset) && err.message.startsWith(`${dataset}: missing file`);
}

/** The first line of a message, its settings kept: a table cell holds one line. */
function firstLine(err: UserError): Message {
  const end = err.parts.findIndex((p) => typeof p === 'string' && p.includes('\n'));
  if (end < 0) return new Message(err.parts);
  return new Message([...err.parts.slice(0, end), (err.parts[end] as string).split('\n')[0]!]);
}

/** A dataset's finished runs, the recipe they trained and its test set as they were trained on it (an image folder's normalisation included). */
interface DatasetRuns { name: string; recipe: RecipeName; info: DatasetInfo; test: ImageSet; augmented: FinishedRun; plain?: FinishedRun }

/**
 * Each dataset's Grad-CAM grid (also written as <out>/<name>-gradcam.png): its model's maps,
 * beside the unaugmented model's when there is one.
 */
async function gradcamFigures(runs: readonly DatasetRuns[], o: DatasetsBenchOptions): Promise<Figure[]> {
  if (runs.length === 0) return [];
  const backend = await createBackend(o.settings.backend ?? recipeDefaults[runs[0]!.recipe].backend);
  try {
    const figures: Figure[] = [];
    for (const r of runs) {
      const checkpoints = [{ path: r.augmented.checkpoint, name: 'with augmentation' }];
      if (r.plain) checkpoints.push({ path: r.plain.checkpoint, name: 'without augmentation' });
      const e = await explainCheckpoints({ checkpoints, backend, info: r.info, test: r.test, images: o.gradcamImages ?? defaultExplainImages, seed: o.settings.seed ?? recipeDefaults[r.recipe].seed });
      await writeFileAtomic(join(o.out, `${r.name}-gradcam.png`), e.figure);
      figures.push({
        caption: `${r.name}: Grad-CAM of the last feature maps for the predicted class${r.plain ? ', trained with augmentation (left) and without (right)' : ''}`,
        png: e.figure,
      });
    }
    return figures;
  } finally {
    backend.dispose();
  }
}

/** The table, and why each row that is not a result is not (`dataset: reason`). */
export async function benchDatasets(o: DatasetsBenchOptions): Promise<{ rows: ResultRow[]; table: string; failures: Message[] }> {
  const rows: ResultRow[] = [];
  const failures: Message[] = [];
  const done: DatasetRuns[] = [];
  for (const dataset of o.datasets ?? datasetNames) {
    const name = datasetRunName(dataset);
    const settings: TrainSettings = { ...o.settings, dataset, out: join(o.out, name) };
    try {
      const hooks = o.hooks?.(name) ?? {};
      // Opened once for both runs, and for the Grad-CAM grid.
      const data = await openRunData(settings, hooks);
      const config = resolveSettings(settings, recipeCandidates(settings, data.info).recipes[0]!);
      const augmented = await trainOrReuse(config, data, hooks);
      rows.push(augmented.row);
      let plain: FinishedRun | undefined;
      if (o.compareAugmentation) {
        const plainName = `${name}-no-augmentation`;
        plain = await trainOrReuse({ ...config, augment: 'none', out: join(o.out, plainName) }, data, o.hooks?.(plainName) ?? {});
        rows.push({ ...plain.row, dataset: `${name}, no augmentation` });
      }
      done.push({ name, recipe: config.recipe, info: data.info, test: data.test!, augmented, ...(plain ? { plain } : {}) });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      const reason = firstLine(err);
      rows.push({ dataset: name, status: isMissingData(err, dataset) ? 'skipped' : 'failed', reason: String(reason) });
      failures.push(msg`${name}: ${reason}`);
    }
  }
  const table = resultsTableMarkdown(rows);
  // Every dataset may have been skipped, and then no run made the folder.
  await mkdir(o.out, { recursive: true });
  await writeFileAtomic(join(o.out, 'results.md'), table);
  await writeFileAtomic(join(o.out, 'results.json'), resultsTableJson(rows));
  const histories: RunHistory[] = done.flatMap((r) => [
    r.augmented.history,
    ...(r.plain ? [{ ...r.plain.history, name: `${r.name}, no augmentation` }] : []),
  ]);
  const trained = [...new Set(done.map((r) => r.recipe))].map((r) => recipes[r]);
  const networks = trained.map((r) => r.networkName).join(' and ');
  if (histories.length > 0) await writeChart(join(o.out, 'datasets'), datasetComparison(histories, trained.map((r) => `${r.networkName}, ${r.name} recipe`).join('; ')));
  await writeReport(o.out, {
    title: o.title?.(networks || 'the network') ?? 'kilosecond: are 1000 seconds enough to train?',
    createdAt: new Date().toISOString(),
    benchResults: rows,
    benchHistories: histories,
    gradcam: await gradcamFigures(done, o),
  });
  return { rows, table, failures };
}
