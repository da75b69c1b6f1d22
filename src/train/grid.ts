/**
 * @file What the measured grid says a plan will reach: the test accuracy of whole runs on this
 * project's machines (BENCHMARKS.md, "The planner's grid"), and a model that carries each
 * measured point to the plans around it.
 *
 * The model: within one recipe on one dataset, the test error falls as a power of the work,
 * error ∝ work^-β with work = epochs x width. (A convolution's arithmetic grows with the square
 * of the width, but counted so the grid's wide few-epoch points would be overrated: its
 * DAWNBench points fit within the exponent's range only with the width counted once.) A plan's error is that of the measured point of its recipe and dataset nearest in
 * work, scaled by the ratio of the works to the power β. β is fitted to the recipe's points on
 * that dataset where there are two or more, and is the median of those fits elsewhere
 * (`defaultExponent`). An image folder takes the grid of the built-in dataset with its channel count:
 * CIFAR-10's for colour, Fashion-MNIST's for grey.
 */
import type { DatasetInfo } from '../data/datasets.js';
import type { RecipeName } from './recipes.js';

export interface GridPoint {
  dataset: 'mnist' | 'fashion-mnist' | 'cifar10';
  recipe: RecipeName;
  width: number;
  epochs: number;
  /** Final test accuracy, 0..1 (the mean where several seeds ran). */
  accuracy: number;
  /** Where it was measured (a BENCHMARKS.md section), for the reader. */
  source: string;
}

/** Every point with the datasets' default augmentation (MNIST without the flip). */
export const grid: readonly GridPoint[] = [
  { dataset: 'fashion-mnist', recipe: 'dawnbench', width: 64, epochs: 25, accuracy: 0.95, source: 'issue 4, full recipe' },
  { dataset: 'fashion-mnist', recipe: 'dawnbench', width: 32, epochs: 18, accuracy: 0.9448, source: 'issue 4, a 1000 s budget' },
  { dataset: 'fashion-mnist', recipe: 'dawnbench', width: 16, epochs: 10, accuracy: 0.9317, source: 'issue 4, seeds 0 and 1' },
  { dataset: 'fashion-mnist', recipe: 'fast', width: 32, epochs: 10, accuracy: 0.9449, source: 'issue 14, a 400 s budget' },
  { dataset: 'fashion-mnist', recipe: 'fast', width: 64, epochs: 16, accuracy: 0.951, source: 'issue 23, bf16' },
  { dataset: 'cifar10', recipe: 'dawnbench', width: 64, epochs: 25, accuracy: 0.9425, source: 'issue 10, full recipe' },
  { dataset: 'cifar10', recipe: 'dawnbench', width: 32, epochs: 14, accuracy: 0.9159, source: 'issue 10, a 1000 s budget' },
  { dataset: 'cifar10', recipe: 'fast', width: 64, epochs: 10, accuracy: 0.9405, source: 'issues 14 and 22, 6 seeds in float32 and bf16' },
  { dataset: 'mnist', recipe: 'dawnbench', width: 64, epochs: 25, accuracy: 0.9975, source: 'issue 10, without the flip' },
  { dataset: 'mnist', recipe: 'fast', width: 16, epochs: 7, accuracy: 0.9953, source: 'issue 14, a 120 s budget' },
  { dataset: 'mnist', recipe: 'fast', width: 16, epochs: 5, accuracy: 0.9957, source: 'issue 23, a 120 s budget (whole epochs)' },
  { dataset: 'mnist', recipe: 'fast', width: 16, epochs: 5.48, accuracy: 0.9954, source: 'issue 23, a 120 s budget (318 steps)' },
  // Four epochs at width 32 collapsed at test time (every test image one class after epochs 1-3,
  // 93.86% at the end at 98% training accuracy): short wide schedules on MNIST are not to be carried from longer ones.
  { dataset: 'mnist', recipe: 'fast', width: 32, epochs: 3.9, accuracy: 0.9386, source: 'issue 23, a 120 s budget (226 steps)' },
  { dataset: 'mnist', recipe: 'fast', width: 64, epochs: 10, accuracy: 0.9969, source: 'issue 14, full width' },
];

/** Fitted exponents are held to this range: two close points can fit anything. */
const exponentRange = [0.03, 0.3] as const;

const work = (width: number, epochs: number): number => epochs * width;

/** The built-in dataset whose grid stands for `info`: itself, or the nearest kind for an image folder. */
export function gridDatasetFor(info: Pick<DatasetInfo, 'name' | 'channels'>): GridPoint['dataset'] {
  if (info.name === 'mnist' || info.name === 'fashion-mnist' || info.name === 'cifar10') return info.name;
  return info.channels >= 3 ? 'cifar10' : 'fashion-mnist';
}

/** β of error ∝ work^-β by least squares on the logs of a recipe's points; undefined with fewer than two distinct works. */
export function fitExponent(points: readonly GridPoint[]): number | undefined {
  const xs = points.map((p) => Math.log(work(p.width, p.epochs)));
  const ys = points.map((p) => Math.log(1 - p.accuracy));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (points.length < 2 || sxx < 1e-9) return undefined;
  const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / sxx;
  return Math.min(exponentRange[1], Math.max(exponentRange[0], -slope));
}

/** The exponent where a recipe has a single point on a dataset: the median of the fits of the others. */
export function defaultExponent(points: readonly GridPoint[]): number {
  const groups = new Map<string, GridPoint[]>();
  for (const p of points) groups.set(`${p.dataset}/${p.recipe}`, [...(groups.get(`${p.dataset}/${p.recipe}`) ?? []), p]);
  const fits = [...groups.values()].map(fitExponent).filter((b): b is number => b !== undefined).sort((a, b) => a - b);
  if (fits.length === 0) return exponentRange[0];
  const mid = fits.length >> 1;
  return fits.length % 2 ? fits[mid]! : (fits[mid - 1]! + fits[mid]!) / 2;
}

export interface Expectation {
  accuracy: number;
  /** The measured point it was carried from, and the exponent. */
  from: GridPoint;
  exponent: number;
}

/** The expected test accuracy of `recipe` at `width` for `epochs` on `dataset`; undefined where the grid has no point of the recipe there. */
export function expectedAccuracy(dataset: GridPoint['dataset'], recipe: RecipeName, width: number, epochs: number, points: readonly GridPoint[] = grid): Expectation | undefined {
  const own = points.filter((p) => p.dataset === dataset && p.recipe === recipe);
  if (own.length === 0) return undefined;
  const w = work(width, epochs);
  const distance = (p: GridPoint): number => Math.abs(Math.log(work(p.width, p.epochs) / w));
  const from = own.reduce((a, b) => (distance(b) < distance(a) ? b : a));
  const exponent = fitExponent(own) ?? defaultExponent(points);
  const error = (1 - from.accuracy) * (work(from.width, from.epochs) / w) ** exponent;
  return { accuracy: 1 - Math.min(1, error), from, exponent };
}
