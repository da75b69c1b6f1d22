/**
 * @file The results table of `kilosecond bench`: one row per dataset, as Markdown for people
 * (README, terminal) and JSON for programs.
 */

export type ResultStatus = 'ok' | 'skipped' | 'failed';

export interface ResultRow {
  dataset: string;
  status: ResultStatus;
  /** Why the row was skipped or failed (e.g. "CIFAR-10 not found in ./data"). */
  reason?: string;
  epochs?: number;
  /** The network's width (ResNet-9's base width, the airbench network's first group). */
  width?: number;
  /** Wall-clock seconds of the whole run: data preparation, training and evaluation. */
  totalSeconds?: number;
  /** Where the total went: loading and precomputing data (and a budget's measurements), the steps, the test passes. */
  phases?: { preparation: number; training: number; evaluation: number };
  /** Training throughput. */
  imagesPerSecond?: number;
  /** Seconds per epoch; when absent it is derived as totalSeconds / epochs. */
  secondsPerEpoch?: number;
  /** Fraction in 0..1. */
  testAccuracy?: number;
  /** The run's peak resident memory, in MB (summary.json's peak_rss_mb; absent for runs recorded before it was). */
  peakRssMb?: number;
}

/** The row with secondsPerEpoch filled in when it can be derived. */
function resolve(row: ResultRow): ResultRow {
  if (row.secondsPerEpoch !== undefined || row.totalSeconds === undefined || !row.epochs) return row;
  return { ...row, secondsPerEpoch: row.totalSeconds / row.epochs };
}

const DASH = '–';

function seconds(value: number | undefined): string {
  if (value === undefined) return DASH;
  return value >= 100 ? `${value.toFixed(0)} s` : `${value.toFixed(1)} s`;
}

function percent(value: number | undefined): string {
  return value === undefined ? DASH : `${(100 * value).toFixed(2)}%`;
}

/** Markdown cells cannot hold a raw '|' or a line break. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function statusText(row: ResultRow): string {
  return row.reason ? `${row.status}: ${row.reason}` : row.status;
}

export const RESULT_COLUMNS = ['dataset', 'width', 'epochs', 'test accuracy', 'total time', 'time per epoch', 'preparation', 'training', 'evaluation', 'images/s', 'peak RSS', 'status'] as const;

const whole = (n: number | undefined) => (n === undefined ? DASH : n.toFixed(0));

/** Each row's cells as display text, in RESULT_COLUMNS order (shared by Markdown and HTML). */
export function resultCells(row: ResultRow): string[] {
  const r = resolve(row);
  return [
    r.dataset, whole(r.width), whole(r.epochs), percent(r.testAccuracy), seconds(r.totalSeconds), seconds(r.secondsPerEpoch),
    seconds(r.phases?.preparation), seconds(r.phases?.training), seconds(r.phases?.evaluation), whole(r.imagesPerSecond),
    r.peakRssMb === undefined ? DASH : `${whole(r.peakRssMb)} MB`, statusText(r),
  ];
}

export function resultsTableMarkdown(rows: readonly ResultRow[]): string {
  const lines = [
    `| ${RESULT_COLUMNS.join(' | ')} |`,
    `|${RESULT_COLUMNS.map((_, i) => (i === 0 || i === RESULT_COLUMNS.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((row) => `| ${resultCells(row).map(cell).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

export function resultsTableJson(rows: readonly ResultRow[]): string {
  return `${JSON.stringify(rows.map(resolve), null, 2)}\n`;
}
