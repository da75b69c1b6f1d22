/**
 * @file A run folder as the results table sees it: its row, its curves and its model, whether the
 * run was trained just now or finished earlier. `bench` reuses a finished run whose settings are
 * the ones asked for, so the table can be built one dataset at a time (each is a long run on a
 * CPU: BENCHMARKS.md, "The seed's table on the three real datasets") and a bench that was stopped
 * goes on from the first dataset it had not finished.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunHistory } from '../report/curves.js';
import type { ResultRow } from '../report/results-table.js';
import { epochMetrics } from '../report/run-report.js';
import type { EpochRecord } from '../train/fit.js';
import { summaryOf, type RunSummary } from '../train/summary.js';
import type { TrainResult } from '../train/trainer.js';
import { type TrainConfig } from '../train/settings.js';

export interface FinishedRun {
  row: ResultRow;
  history: RunHistory;
  checkpoint: string;
  /** False when it was found on disk rather than trained by this bench. */
  trainedNow: boolean;
}

/** Where a run's files are read from and written to, and how it was started: none changes what it trains (a memory limit that lowered the batch shows in the batch). */
const placeFields = new Set(['out', 'dataDir', 'verifyData', 'shardsDir', 'overwrite', 'resume', 'maxMemoryGb']);

/** A JSON value with object keys sorted, so that two settings compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v);
}

/**
 * The settings that decide what a run trains, as asked. Under a budget the planner chose the
 * epochs and (unless it was given) the width, so those are not compared; with precision 'auto'
 * the run chose its precision, so whichever it recorded will do. A run recorded before precision
 * was a setting trained in float32.
 */
function askedSettings(config: object, asked: TrainConfig): string {
  const budgeted = asked.budget !== undefined;
  const auto = (asked.precision ?? 'auto') === 'auto';
  const kept = Object.entries({ precision: 'fp32', ...config }).filter(([k, v]) => !placeFields.has(k) && v !== undefined && v !== null
    && !(budgeted && (k === 'epochs' || (k === 'width' && asked.width === undefined)))
    && !(auto && k === 'precision'));
  return canonical(Object.fromEntries(kept));
}

function fromSummary(summary: RunSummary, records: readonly EpochRecord[], checkpoint: string, trainedNow: boolean): FinishedRun {
  const t = summary.time_breakdown;
  return {
    row: {
      dataset: summary.dataset,
      status: 'ok',
      epochs: summary.epochs,
      width: summary.width,
      totalSeconds: summary.total_seconds,
      phases: { preparation: t.data_preparation + t.calibration, training: t.training, evaluation: t.evaluation },
      imagesPerSecond: summary.images_per_second,
      testAccuracy: summary.test_accuracy,
      // Summaries written before it was recorded have none.
      ...(summary.peak_rss_mb === undefined ? {} : { peakRssMb: summary.peak_rss_mb }),
    },
    history: { name: summary.dataset, epochs: records.map(epochMetrics) },
    checkpoint,
    trainedNow,
  };
}

export function finishedFromResult(result: TrainResult): FinishedRun {
  return fromSummary(summaryOf(result), result.history, result.checkpoint, true);
}

/**
 * The run in `config.out` when it finished every planned epoch with the settings of `config` (as
 * configForData resolves them) on the images `sources` names (an edited image folder is another
 * dataset); undefined when there is none, it stopped early, or it trained otherwise.
 */
export async function readFinishedRun(config: TrainConfig, sources: Record<string, string>): Promise<FinishedRun | undefined> {
  const files = ['summary.json', 'metrics.jsonl', 'model.safetensors'].map((f) => join(config.out, f));
  if (!files.every((f) => existsSync(f))) return undefined;
  let summary: RunSummary;
  let records: EpochRecord[];
  try {
    summary = JSON.parse(await readFile(files[0]!, 'utf8')) as RunSummary;
    records = (await readFile(files[1]!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
  } catch {
    return undefined; // unreadable: train it again rather than trust it
  }
  const complete = !summary.interrupted && summary.epochs === summary.planned_epochs && records.length === summary.epochs;
  if (!complete || askedSettings(summary.config, config) !== askedSettings(config, config)) return undefined;
  if (canonical(summary.data_sources) !== canonical(sources)) return undefined;
  return fromSummary(summary, records, files[2]!, false);
}
