/**
 * @file The results table end to end on the real MNIST, at a size that fits a test: the table's
 * row, the combined report with curves and Grad-CAM with and without augmentation, and a second
 * bench that reuses the finished runs instead of training; a run with other settings, or one that
 * stopped early, is not reused.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { augmentFor } from '../data/augment.js';
import { datasetInfo } from '../data/datasets.js';
import { decodePng } from '../testing/png-check.js';
import type { ResultRow } from '../report/results-table.js';
import { sharedDir } from '../testing/paths.js';
import { recipe, type TrainConfig } from '../train/trainer.js';
import { benchDatasets } from './datasets.js';
import { readFinishedRun } from './finished-run.js';

let out: string;
before(async () => { out = await mkdtemp(join(tmpdir(), 'kilosecond-bench-')); });
after(() => rm(out, { recursive: true, force: true }));

const config = { ...recipe, width: 4, epochs: 1, augment: 'online' as const, dataDir: join(sharedDir, 'data', 'mnist') };
const bench = (trained: string[], reused: string[]) => benchDatasets({
  config, out, datasets: ['mnist'], compareAugmentation: true, gradcamImages: 2,
  hooks: (run) => ({ onEpoch: () => trained.push(run), onReuse: () => reused.push(run) }),
});

it('writes the table, the curves and the Grad-CAM grids, then reuses the finished runs', { timeout: 10 * 60_000 }, async () => {
  const trained: string[] = [];
  const first = await bench(trained, []);
  assert.deepEqual(trained, ['mnist', 'mnist-no-augmentation']);
  assert.deepEqual(first.rows.map((r) => [r.dataset, r.status, r.width, r.epochs]), [['mnist', 'ok', 4, 1], ['mnist, no augmentation', 'ok', 4, 1]]);
  const row = first.rows[0]!;
  assert.ok(row.testAccuracy! > 0.5, `accuracy ${row.testAccuracy}`);
  assert.ok(row.phases!.training > 0 && row.imagesPerSecond! > 0);
  assert.ok(Math.abs(row.phases!.preparation + row.phases!.training + row.phases!.evaluation - row.totalSeconds!) < 0.05 * row.totalSeconds! + 1);
  assert.deepEqual((JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultRow[]).map((r) => r.testAccuracy), first.rows.map((r) => r.testAccuracy));

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const part of ['Results by dataset', 'Curves by dataset', 'Grad-CAM', 'mnist, no augmentation', 'trained with augmentation (left) and without (right)']) assert.ok(html.includes(part), part);
  assert.equal(html.match(/<img src="data:/g)?.length, 2, 'the curves and one Grad-CAM grid, embedded');
  const grid = decodePng(readFileSync(join(out, 'mnist-gradcam.png')));
  assert.ok(grid.width > grid.height, 'two images, each beside two models');

  const reused: string[] = [];
  const again = await bench([], reused);
  assert.deepEqual(reused, ['mnist', 'mnist-no-augmentation']);
  assert.deepEqual(again.rows, first.rows);
});

it('a finished run with other settings, or one that stopped early, is trained again', async () => {
  // As the bench asks: what the dataset decides (MNIST's zero padding, Page's sides) filled in.
  const asked: TrainConfig = { ...config, dataset: 'mnist', out: join(out, 'mnist'), augmentation: augmentFor(config.augmentation, datasetInfo('mnist')) };
  assert.ok(await readFinishedRun(asked), 'the same settings');
  assert.ok(await readFinishedRun({ ...asked, dataDir: '/elsewhere', shardsDir: '/other' }), 'where the files are does not matter');
  assert.equal(await readFinishedRun({ ...asked, seed: 1 }), undefined);
  assert.equal(await readFinishedRun({ ...asked, augmentation: { ...asked.augmentation, cutout: 0 } }), undefined);
  assert.equal(await readFinishedRun({ ...asked, out: join(out, 'nothing-here') }), undefined);
  const summaryFile = join(asked.out, 'summary.json');
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { interrupted: boolean };
  writeFileSync(summaryFile, JSON.stringify({ ...summary, interrupted: true }));
  assert.equal(await readFinishedRun(asked), undefined);
  assert.ok(existsSync(join(asked.out, 'model.safetensors')), 'nothing was deleted');
});
