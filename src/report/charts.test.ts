import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lineChartSvg, svgToPng, writeChart } from './charts.js';
import { datasetComparison, learningRateChart, trainingCurves, type EpochMetrics } from './curves.js';
import { decodePng, greyVariance } from '../testing/png-check.js';

function fakeHistory(epochs: number, finalAccuracy: number): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => {
    const progress = (i + 1) / epochs;
    return {
      epoch: i + 1,
      trainLoss: 2 * (1 - progress) + 0.1,
      trainAccuracy: finalAccuracy * (0.5 + 0.5 * progress),
      testLoss: 2.1 * (1 - progress) + 0.15,
      testAccuracy: finalAccuracy * (0.45 + 0.5 * progress),
    };
  });
}

const outDir = await mkdtemp(join(tmpdir(), 'kilosecond-charts-'));
after(() => rm(outDir, { recursive: true, force: true }));

describe('lineChartSvg', () => {
  it('names the axes and the series', async () => {
    const svg = await lineChartSvg({
      xTitle: 'epoch',
      yTitle: 'accuracy',
      series: [
        { name: 'train', x: [1, 2, 3], y: [0.5, 0.7, 0.8] },
        { name: 'test', x: [1, 2, 3], y: [0.4, 0.6, 0.75] },
      ],
    });
    assert.match(svg, /^<svg/);
    for (const text of ['epoch', 'accuracy', 'train', 'test']) assert.ok(svg.includes(`>${text}<`), text);
  });

  it('draws a gap for a missing value instead of failing', async () => {
    const svg = await lineChartSvg({
      xTitle: 'epoch',
      yTitle: 'loss',
      series: [{ name: 'test', x: [1, 2, 3], y: [1, Number.NaN, 0.5] }],
    });
    assert.ok(!svg.includes('NaN'));
  });

  it('lays out the three datasets of the article side by side', async () => {
    const figure = datasetComparison([
      { name: 'MNIST', epochs: fakeHistory(5, 0.99) },
      { name: 'Fashion-MNIST', epochs: fakeHistory(5, 0.93) },
      { name: 'CIFAR-10', epochs: fakeHistory(5, 0.94) },
    ]);
    const svg = await lineChartSvg(figure);
    for (const name of ['MNIST: accuracy', 'Fashion-MNIST: loss', 'CIFAR-10: accuracy']) {
      assert.ok(svg.includes(name), name);
    }
  });
});

describe('svgToPng', () => {
  it('rasterises at the requested scale', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect x="10" width="20" height="20" fill="black"/></svg>';
    const png = decodePng(await svgToPng(svg, 3));
    assert.deepEqual([png.width, png.height], [120, 60]);
    assert.equal(png.data[0], 255, 'the background is white');
    assert.equal(png.data[4 * (30 * 120 + 60)], 0, 'the rectangle is black');
  });
});

describe('writeChart', () => {
  it('writes matching .svg and .png files and nothing else', async () => {
    const paths = await writeChart(join(outDir, 'curves.png'), trainingCurves({ name: 'MNIST', epochs: fakeHistory(8, 0.99) }));
    assert.deepEqual(paths, { svg: join(outDir, 'curves.svg'), png: join(outDir, 'curves.png') });
    const svg = await readFile(paths.svg, 'utf8');
    const width = Number(/<svg[^>]* width="(\d+(?:\.\d+)?)"/.exec(svg)?.[1]);
    const png = decodePng(await readFile(paths.png));
    assert.equal(png.width, Math.ceil(width * 2));
    assert.ok(greyVariance(png) > 0, 'the PNG is not blank');
    assert.deepEqual((await readdir(outDir)).sort(), ['curves.png', 'curves.svg']);
  });

  it('draws the learning-rate schedule per step', async () => {
    const steps = 100;
    const rates = Array.from({ length: steps }, (_, s) => (s < 20 ? (0.4 * s) / 20 : (0.4 * (steps - s)) / (steps - 20)));
    const paths = await writeChart(join(outDir, 'lr'), learningRateChart(rates));
    const svg = await readFile(paths.svg, 'utf8');
    assert.ok(svg.includes('learning rate schedule') && svg.includes('>step<'));
    assert.ok(greyVariance(decodePng(await readFile(paths.png))) > 0);
  });
});
