/**
 * @file Line charts as SVG (vega-lite compiled by vega, no browser) and PNG (the SVG
 * rasterised by Skia through @napi-rs/canvas).
 *
 * A chart is data, not drawing code: a `LineChart` names its axes and series, a `ChartFigure`
 * lays several charts out in rows under one shared legend, so the same series name ("train",
 * "test") keeps the same colour in every panel. curves.ts builds the figures kilosecond shows.
 *
 *     await writeChart('out/curves', { xTitle: 'epoch', yTitle: 'accuracy',
 *       series: [{ name: 'test', x: [1, 2, 3], y: [0.91, 0.95, 0.97] }] });
 *     // -> out/curves.svg and out/curves.png
 */
import { Image, createCanvas } from '@napi-rs/canvas';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { textFontFamily } from './fonts.js';
import { writeFileAtomic } from '../io/atomic.js';

export interface Series {
  name: string;
  x: readonly number[];
  /** Same length as x; non-finite values (a missing evaluation) leave a gap, not a crash. */
  y: readonly number[];
}

export interface LineChart {
  title?: string;
  xTitle: string;
  yTitle: string;
  series: readonly Series[];
  /** Fixed y range, e.g. [0, 1] for accuracy; by default it fits the data. */
  yDomain?: readonly [number, number];
}

/** Several charts in rows (each row left to right) sharing one colour legend. */
export interface ChartFigure {
  title?: string;
  rows: readonly (readonly LineChart[])[];
}

export type ChartSpec = LineChart | ChartFigure;

const PANEL_WIDTH = 360;
const PANEL_HEIGHT = 240;
// A list, not one name: the SVG is also opened in browsers that lack DejaVu.
const SVG_FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

function isFigure(spec: ChartSpec): spec is ChartFigure {
  return 'rows' in spec;
}

function seriesNamesInOrder(charts: readonly LineChart[]): string[] {
  return [...new Set(charts.flatMap((c) => c.series.map((s) => s.name)))];
}

function panelSpec(chart: LineChart, colourDomain: string[]) {
  const values = chart.series.flatMap((s) =>
    s.x.map((x, i) => ({ x, y: s.y[i], series: s.name })).filter((p) => Number.isFinite(p.y) && Number.isFinite(p.x)),
  );
  return {
    ...(chart.title === undefined ? {} : { title: chart.title }),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values },
    mark: { type: 'line' as const, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative' as const, title: chart.xTitle, scale: { zero: false } },
      y: {
        field: 'y',
        type: 'quantitative' as const,
        title: chart.yTitle,
        scale: chart.yDomain === undefined ? { zero: false } : { domain: [...chart.yDomain] },
      },
      color: {
        field: 'series',
        type: 'nominal' as const,
        title: null,
        scale: { domain: colourDomain },
        // A legend naming the only line says nothing the title does not.
        ...(colourDomain.length > 1 ? {} : { legend: null }),
      },
    },
  };
}

function vegaLiteSpec(spec: ChartSpec): TopLevelSpec {
  const config = { font: SVG_FONT, background: 'white' };
  if (!isFigure(spec)) return { ...panelSpec(spec, seriesNamesInOrder([spec])), config };
  const colourDomain = seriesNamesInOrder(spec.rows.flat());
  return {
    ...(spec.title === undefined ? {} : { title: { text: spec.title, anchor: 'middle' as const, fontSize: 16 } }),
    vconcat: spec.rows.map((row) => ({ hconcat: row.map((chart) => panelSpec(chart, colourDomain)) })),
    config,
  };
}

/** The chart as a standalone SVG document. */
export async function lineChartSvg(spec: ChartSpec): Promise<string> {
  const charts = isFigure(spec) ? spec.rows.flat() : [spec];
  if (charts.length === 0) throw new Error('a chart figure needs at least one panel');
  const view = new vega.View(vega.parse(compile(vegaLiteSpec(spec)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG document to PNG, `scale` device pixels per SVG unit, on white. */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  textFontFamily(); // fails clearly when there is no font, instead of drawing blank labels
  const image = new Image();
  image.src = Buffer.from(svg);
  await image.decode();
  const canvas = createCanvas(Math.ceil(image.width * scale), Math.ceil(image.height * scale));
  const context = canvas.getContext('2d');
  context.fillStyle = 'white';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.scale(scale, scale);
  context.drawImage(image, 0, 0);
  return canvas.toBuffer('image/png');
}

/**
 * Write `<base>.svg` and `<base>.png` (a trailing .svg or .png on `path` is dropped), each
 * atomically, creating the folder if needed. Returns the two paths.
 */
export async function writeChart(path: string, spec: ChartSpec): Promise<{ svg: string; png: string }> {
  const base = path.replace(/\.(svg|png)$/i, '');
  const svg = await lineChartSvg(spec);
  const png = await svgToPng(svg);
  const paths = { svg: `${base}.svg`, png: `${base}.png` };
  await mkdir(dirname(base), { recursive: true });
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, png);
  return paths;
}
