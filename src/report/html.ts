/**
 * @file The run report: one self-contained `report.html` that opens anywhere, offline, years
 * later. Nothing is linked: the CSS is inline, charts are embedded SVG and figures PNG, both as
 * data: URIs, and every piece of text goes through `escapeHtml`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { lineChartSvg, type ChartSpec } from './charts.js';
import { datasetComparison, learningRateChart, trainingCurves, type RunHistory } from './curves.js';
import { RESULT_COLUMNS, resultCells, type ResultRow } from './results-table.js';
import type { EnvironmentInfo } from '../train/environment.js';


/** Wall-clock seconds per phase of a run. */
export interface TimeBreakdown {
  dataPreparation?: number;
  training?: number;
  evaluation?: number;
}

export interface RunResults {
  epochs?: number;
  /** Fraction in 0..1. */
  testAccuracy?: number;
  testLoss?: number;
  /** Training throughput. */
  imagesPerSecond?: number;
  /** Peak resident memory of the run, in MB. */
  peakRssMb?: number;
}

export interface Figure {
  caption: string;
  png: Uint8Array;
}

export interface ReportData {
  title: string;
  /** The command line that made the run, shown verbatim. */
  command?: string;
  /** ISO 8601; when the report was made. */
  createdAt?: string;
  config?: Record<string, string | number | boolean | null>;
  environment?: EnvironmentInfo;
  timings?: TimeBreakdown;
  results?: RunResults;
  /** Accuracy and loss per epoch of the run. */
  history?: RunHistory;
  /** Learning rate at each optimiser step. */
  learningRates?: readonly number[];
  /** A training image beside its augmented versions (`show`'s grid). */
  augmentationSamples?: Figure;
  gradcam?: readonly Figure[];
  /** Accuracy by class and the confusion matrix (counts[true][predicted]), with each split's class counts. */
  perClass?: { classes: readonly string[]; confusion: readonly (readonly number[])[]; trainCounts?: readonly number[] };
  /** Image-folder files left out because they could not be decoded. */
  skippedImages?: ReadonlyArray<{ path: string; error: string }>;
  /** `bench`: one row per dataset, and their curves side by side. */
  benchResults?: readonly ResultRow[];
  benchHistories?: readonly RunHistory[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function dataUri(mime: string, bytes: string | Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
}

function table(header: readonly string[] | null, rows: readonly (readonly string[])[]): string {
  const tr = (cells: readonly string[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  const head = header ? `<thead>${tr(header, 'th')}</thead>` : '';
  return `<table>${head}<tbody>${rows.map((r) => tr(r, 'td')).join('')}</tbody></table>`;
}

function keyValueTable(entries: ReadonlyArray<readonly [string, string]>): string {
  const rows = entries.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`);
  return `<table class="kv"><tbody>${rows.join('')}</tbody></table>`;
}

function section(title: string, body: string): string {
  return `<section><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function figure(src: string, caption: string): string {
  return `<figure><img src="${src}" alt="${escapeHtml(caption)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

async function chartFigure(spec: ChartSpec, caption: string): Promise<string> {
  return figure(dataUri('image/svg+xml', await lineChartSvg(spec)), caption);
}

function pngFigure(f: Figure): string {
  return figure(dataUri('image/png', f.png), f.caption);
}

const fmtSeconds = (s: number) => `${s.toFixed(1)} s`;

function timingsSection(t: TimeBreakdown): string {
  const phases: Array<[string, number | undefined]> = [
    ['data preparation', t.dataPreparation],
    ['training', t.training],
    ['evaluation', t.evaluation],
  ];
  const present = phases.filter((p): p is [string, number] => p[1] !== undefined);
  const total = present.reduce((sum, [, s]) => sum + s, 0);
  const rows = present.map(([name, s]) => {
    const share = total > 0 ? (100 * s) / total : 0;
    return `<tr><th scope="row">${escapeHtml(name)}</th><td>${fmtSeconds(s)}</td><td>${share.toFixed(0)}%</td><td class="bar"><span style="width:${share.toFixed(1)}%"></span></td></tr>`;
  });
  rows.push(`<tr class="total"><th scope="row">total</th><td>${fmtSeconds(total)}</td><td></td><td></td></tr>`);
  return section('Time', `<table class="kv"><tbody>${rows.join('')}</tbody></table>`);
}

function resultsSection(r: RunResults): string {
  const entries: Array<[string, string]> = [];
  if (r.testAccuracy !== undefined) entries.push(['test accuracy', `${(100 * r.testAccuracy).toFixed(2)}%`]);
  if (r.testLoss !== undefined) entries.push(['test loss', r.testLoss.toFixed(4)]);
  if (r.imagesPerSecond !== undefined) entries.push(['training images/s', r.imagesPerSecond.toFixed(1)]);
  if (r.epochs !== undefined) entries.push(['epochs', String(r.epochs)]);
  if (r.peakRssMb !== undefined) entries.push(['peak memory (RSS)', `${r.peakRssMb.toFixed(0)} MB`]);
  return section('Results', keyValueTable(entries));
}

function environmentSection(e: EnvironmentInfo): string {
  const entries: Array<[string, string]> = [['CPU', e.cpu], ['backend', e.backend]];
  if (e.device !== undefined) entries.push(['device', e.device]);
  for (const [name, version] of Object.entries(e.versions)) entries.push([name, version]);
  return section('Environment', keyValueTable(entries));
}

function perClassSection(p: NonNullable<ReportData['perClass']>): string {
  const testCounts = p.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const rows = p.classes.map((name, c) => [
    name, ...(p.trainCounts ? [String(p.trainCounts[c])] : []), String(testCounts[c]),
    testCounts[c]! > 0 ? `${((100 * p.confusion[c]![c]!) / testCounts[c]!).toFixed(1)}%` : '–',
  ]);
  const header = ['class', ...(p.trainCounts ? ['training images'] : []), 'test images', 'accuracy'];
  // Each cell shaded by its share of the true class's row: the diagonal is right, the rest is what it is mistaken for.
  const cells = p.confusion.map((row, c) => `<tr><th scope="row">${escapeHtml(p.classes[c]!)}</th>${row.map((n) => {
    const share = testCounts[c]! > 0 ? n / testCounts[c]! : 0;
    return `<td style="background:rgba(76,120,168,${share.toFixed(3)})${share > 0.5 ? ';color:#fff' : ''}">${n}</td>`;
  }).join('')}</tr>`);
  const matrix = `<table class="confusion"><thead><tr><th>true \\ predicted</th>${p.classes.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${cells.join('')}</tbody></table>`;
  return section('Accuracy by class', table(header, rows)) + section('Confusion matrix', matrix);
}

function skippedSection(files: NonNullable<ReportData['skippedImages']>): string {
  return section(`Images left out (${files.length})`, table(['file', 'why'], files.map((f) => [f.path, f.error])));
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}.meta{color:#666;margin-top:0}code{background:#f4f4f4;padding:.1em .3em}
section{margin:2em 0}table{border-collapse:collapse}th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
thead th{border-bottom:2px solid #999}td{font-variant-numeric:tabular-nums}
.kv th{font-weight:normal;color:#555}.total th,.total td{font-weight:bold}
.bar{width:14em}.bar span{display:block;height:.8em;background:#4c78a8}
.confusion td{text-align:right;min-width:2.5em}
figure{margin:1em 0}figure img{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}
`;

/** The report as one HTML document. */
export async function renderReportHtml(data: ReportData): Promise<string> {
  const parts: string[] = [];
  const meta: string[] = [];
  if (data.createdAt !== undefined) meta.push(escapeHtml(data.createdAt));
  if (data.command !== undefined) meta.push(`<code>${escapeHtml(data.command)}</code>`);
  parts.push(`<h1>${escapeHtml(data.title)}</h1>`);
  if (meta.length > 0) parts.push(`<p class="meta">${meta.join(' · ')}</p>`);
  if (data.results) parts.push(resultsSection(data.results));
  if (data.benchResults) parts.push(section('Results by dataset', table(RESULT_COLUMNS, data.benchResults.map(resultCells))));
  if (data.benchHistories?.length) {
    parts.push(section('Curves by dataset', await chartFigure(datasetComparison(data.benchHistories), 'accuracy (top) and loss (bottom) per epoch, train and test')));
  }
  if (data.history) parts.push(section('Curves', await chartFigure(trainingCurves(data.history), 'accuracy and loss per epoch, train and test')));
  if (data.learningRates?.length) parts.push(section('Learning rate', await chartFigure(learningRateChart(data.learningRates), 'learning rate at each optimiser step')));
  if (data.perClass) parts.push(perClassSection(data.perClass));
  if (data.skippedImages?.length) parts.push(skippedSection(data.skippedImages));
  if (data.timings) parts.push(timingsSection(data.timings));
  if (data.config) parts.push(section('Configuration', keyValueTable(Object.entries(data.config).map(([k, v]) => [k, String(v)]))));
  if (data.environment) parts.push(environmentSection(data.environment));
  if (data.augmentationSamples) parts.push(section('Augmentation', pngFigure(data.augmentationSamples)));
  if (data.gradcam?.length) parts.push(section('Grad-CAM', data.gradcam.map(pngFigure).join('')));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
${parts.join('\n')}
</body>
</html>
`;
}

/** Write `<dir>/report.html` (atomically, creating dir) and return its path. */
export async function writeReport(dir: string, data: ReportData): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'report.html');
  await writeFileAtomic(path, await renderReportHtml(data));
  return path;
}
