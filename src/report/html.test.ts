import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EpochMetrics } from './curves.js';
import { describeEnvironment } from '../train/environment.js';
import { escapeHtml, renderReportHtml, writeReport, type ReportData } from './html.js';
import { imageGridPng } from './image-grid.js';

const epochs: EpochMetrics[] = [1, 2, 3].map((epoch) => ({
  epoch,
  trainLoss: 1 / epoch,
  trainAccuracy: 1 - 0.2 / epoch,
  testLoss: 1.1 / epoch,
  testAccuracy: 1 - 0.25 / epoch,
}));

const samplePng = imageGridPng({
  rows: [[{ image: { height: 2, width: 2, channels: 1, data: Uint8Array.of(0, 255, 255, 0) }, caption: '7' }]],
  scale: 8,
});

const trainReport: ReportData = {
  title: 'MNIST <script>alert(1)</script>',
  command: 'kilosecond train mnist --epochs 3',
  createdAt: '2025-01-01T00:00:00Z',
  config: { dataset: 'mnist', batchSize: 512, labelSmoothing: 0.2, augment: true, note: 'see https://example.com/x' },
  environment: describeEnvironment('cpu', { kilosecond: '0.1.0' }),
  timings: { dataPreparation: 1.5, training: 40, evaluation: 2.25 },
  results: { epochs: 3, testAccuracy: 0.9912, imagesPerSecond: 1500 },
  history: { name: 'MNIST', epochs },
  learningRates: [0, 0.2, 0.4, 0.2, 0],
  augmentationSamples: { caption: 'a training image & its augmentations', png: samplePng },
  gradcam: [{ caption: 'Grad-CAM', png: samplePng }],
};

const outDir = await mkdtemp(join(tmpdir(), 'kilosecond-report-'));
after(() => rm(outDir, { recursive: true, force: true }));

describe('escapeHtml', () => {
  it('escapes the five characters that matter', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});

describe('renderReportHtml', () => {
  it('is self-contained: no http(s) URL in any src or href', async () => {
    const html = await renderReportHtml(trainReport);
    const attributes = [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/gi)].map((m) => m[1]!);
    assert.ok(attributes.length >= 4);
    for (const value of attributes) assert.ok(!/^\s*(https?:)?\/\//i.test(value), value.slice(0, 80));
    assert.ok(!/<link\b|<script\b|@import/i.test(html), 'no linked stylesheet or script');
  });

  it('embeds the charts as SVG and the figures as PNG', async () => {
    const html = await renderReportHtml(trainReport);
    const svgs = [...html.matchAll(/src="data:image\/svg\+xml;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    assert.equal(svgs.length, 2, 'the curves and the learning-rate schedule');
    assert.ok(svgs[0]!.includes('>train<') && svgs[0]!.includes('>test<'));
    assert.ok(svgs[1]!.includes('learning rate'));
    const pngs = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64'));
    assert.equal(pngs.length, 2);
    for (const png of pngs) assert.deepEqual(png, samplePng);
  });

  it('shows config, environment, time and results, with all text escaped', async () => {
    const html = await renderReportHtml(trainReport);
    assert.ok(!html.includes('<script>alert(1)</script>'));
    assert.ok(html.includes('MNIST &#60;script&#62;'));
    assert.ok(html.includes('a training image &#38; its augmentations'));
    for (const text of ['batchSize', '512', 'labelSmoothing', 'data preparation', '43.8 s', '99.12%', '1500.0', process.version]) {
      assert.ok(html.includes(text), text);
    }
  });

  it('renders the bench table and the side-by-side curves', async () => {
    const html = await renderReportHtml({
      title: 'bench',
      benchResults: [
        { dataset: 'MNIST', status: 'ok', epochs: 3, totalSeconds: 30, testAccuracy: 0.99 },
        { dataset: 'CIFAR-10', status: 'skipped', reason: 'no data <here>' },
      ],
      benchHistories: [{ name: 'MNIST', epochs }, { name: 'Fashion-MNIST', epochs }],
    });
    assert.ok(html.includes('<th>time per epoch</th>'));
    assert.ok(html.includes('<td>10.0 s</td>'));
    assert.ok(html.includes('skipped: no data &#60;here&#62;'));
    const svg = Buffer.from(/data:image\/svg\+xml;base64,([^"]+)/.exec(html)![1]!, 'base64').toString('utf8');
    assert.ok(svg.includes('Fashion-MNIST: accuracy'));
  });
});

describe('writeReport', () => {
  it('writes report.html into a new folder, leaving no temporary file', async () => {
    const dir = join(outDir, 'run-1');
    const path = await writeReport(dir, trainReport);
    assert.equal(path, join(dir, 'report.html'));
    assert.deepEqual(await readdir(dir), ['report.html']);
    assert.match(await readFile(path, 'utf8'), /^<!DOCTYPE html>/);
  });
});
