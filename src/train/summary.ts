/**
 * @file summary.json: a run's results and settings for programs (the report is for people).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { DatasetInfo } from '../data/datasets.js';
import type { OpenedDataset } from '../data/open.js';
import { perClassAccuracy } from './evaluate.js';
import type { TrainResult } from './trainer.js';

export type RunSummary = ReturnType<typeof summaryOf>;

export function summaryOf(r: TrainResult) {
  return {
    dataset: r.info.name,
    test_accuracy: r.testAccuracy,
    epochs: r.history.length,
    planned_epochs: r.plannedEpochs,
    width: r.width,
    interrupted: r.interrupted,
    peak_rss_mb: Math.round(r.peakRssMb),
    train_seconds: r.timings.training,
    total_seconds: r.timings.total,
    time_breakdown: r.timings,
    images_per_second: r.imagesPerSecond,
    data_wait_seconds: r.history.reduce((s, e) => s + e.data_wait_seconds, 0),
    budget_plan: r.plan ?? null,
    precision: r.precision.precision,
    precision_reason: r.precision.reason,
    folder: r.folder ? folderSummary(r.folder, r.info) : null,
    data_sources: r.sources,
    per_class_accuracy: classAccuracies(r),
    confusion_matrix: r.confusion,
    config: { ...r.config, precision: r.precision.precision, width: r.width, epochs: r.plannedEpochs },
    environment: r.environment,
  };
}

export async function writeSummary(r: TrainResult): Promise<void> {
  await writeFileAtomic(join(r.config.out, 'summary.json'), `${JSON.stringify(summaryOf(r), null, 2)}\n`);
}

/** Each class's test accuracy by name (null for all when no epoch finished). */
function classAccuracies(r: TrainResult): Record<string, number | null> {
  const accuracies = perClassAccuracy(r.confusion);
  return Object.fromEntries(r.info.classes.map((c, i) => [c, accuracies[i] ?? null]));
}

/** Class counts per split (in-house data is rarely balanced), the input settings and what was left out. */
function folderSummary(f: NonNullable<OpenedDataset['folder']>, info: DatasetInfo) {
  const counts = (files: ReadonlyArray<{ label: number }>) => info.classes.map((_, c) => files.filter((x) => x.label === c).length);
  return {
    root: f.scan.root,
    layout: f.scan.layout,
    test_split: f.scan.testSplit ?? null,
    input: f.settings,
    class_counts: { train: counts(f.scan.train), test: counts(f.scan.test) },
    ignored_files: f.scan.ignored,
    skipped_images: f.skipped,
  };
}
