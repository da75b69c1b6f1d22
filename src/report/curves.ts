/**
 * @file The figures kilosecond draws from a training history: accuracy and loss per epoch,
 * the learning-rate schedule per step, and several datasets side by side (the article's
 * MNIST / Fashion-MNIST / CIFAR-10 figure). They return chart specs for charts.ts.
 */
import type { ChartFigure, LineChart, Series } from './charts.js';

/** One epoch of a training run; test metrics are absent for epochs that were not evaluated. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
}

/** A finished (or partial) run, named after its dataset in comparison figures. */
export interface RunHistory {
  name: string;
  epochs: readonly EpochMetrics[];
}

function trainTestSeries(
  epochs: readonly EpochMetrics[],
  train: (m: EpochMetrics) => number,
  test: (m: EpochMetrics) => number | undefined,
): Series[] {
  const x = epochs.map((m) => m.epoch);
  const series: Series[] = [{ name: 'train', x, y: epochs.map(train) }];
  const testValues = epochs.map((m) => test(m) ?? Number.NaN);
  if (testValues.some(Number.isFinite)) series.push({ name: 'test', x, y: testValues });
  return series;
}

function accuracyChart(epochs: readonly EpochMetrics[], title?: string): LineChart {
  return {
    ...(title === undefined ? {} : { title }),
    xTitle: 'epoch',
    yTitle: 'accuracy',
    series: trainTestSeries(epochs, (m) => m.trainAccuracy, (m) => m.testAccuracy),
  };
}

function lossChart(epochs: readonly EpochMetrics[], title?: string): LineChart {
  return {
    ...(title === undefined ? {} : { title }),
    xTitle: 'epoch',
    yTitle: 'loss',
    series: trainTestSeries(epochs, (m) => m.trainLoss, (m) => m.testLoss),
  };
}

/** Accuracy and loss of one run, side by side. */
export function trainingCurves(run: RunHistory): ChartFigure {
  return { title: run.name, rows: [[accuracyChart(run.epochs, 'accuracy'), lossChart(run.epochs, 'loss')]] };
}

/** The learning rate used at each optimiser step (index = step, from 0). */
export function learningRateChart(learningRates: readonly number[]): LineChart {
  return {
    title: 'learning rate schedule',
    xTitle: 'step',
    yTitle: 'learning rate',
    series: [{ name: 'learning rate', x: learningRates.map((_, step) => step), y: learningRates }],
  };
}

/** One column per run: accuracy curves on the top row, loss curves below. */
export function datasetComparison(runs: readonly RunHistory[], title?: string): ChartFigure {
  return {
    ...(title === undefined ? {} : { title }),
    rows: [
      runs.map((run) => accuracyChart(run.epochs, `${run.name}: accuracy`)),
      runs.map((run) => lossChart(run.epochs, `${run.name}: loss`)),
    ],
  };
}
