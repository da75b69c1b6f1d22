/**
 * @file The results table end to end on the real MNIST, at a size that fits a test: the table's
 * row, the combined report with curves and Grad-CAM with and without augmentation, and a second
 * bench that reuses the finished runs instead of training; a run with other settings, on other
 * data, or one that stopped early, is not reused. A folder of real MNIST images goes through the
 * same bench, named by the folder, and an edited folder is trained again.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { loadDataset } from '../data/load-dataset.js';
import { writePngFolder } from '../testing/image-folders.js';
import { decodePng } from '../testing/png-check.js';
import type { ResultRow } from '../report/results-table.js';
import { sharedDir } from '../testing/paths.js';
import { configForData, openRunData } from '../train/run-data.js';
import { recipes } from '../train/recipes.js';
import { recipe, recipeDefaults, type TrainConfig } from '../train/settings.js';
import { benchDatasets } from './datasets.js';
import { readFinishedRun } from './finished-run.js';

let out: string;
before(async () => { out = await mkdtemp(join(tmpdir(), 'kilosecond-bench-')); });
after(() => rm(out, { recursive: true, force: true }));

const config = { ...recipe, width: 4, epochs: 1, augment: 'online' as const, dataDir: join(sharedDir, 'data', 'mnist') };
const bench = (trained: string[], reused: string[]) => benchDatasets({
  settings: config, out, datasets: ['mnist'], compareAugmentation: true, gradcamImages: 2,
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

it('a finished run with other settings, on other data, or one that stopped early, is trained again', async () => {
  // As the bench asks: what the dataset decides (MNIST's zero padding, Page's sides) filled in.
  const settings: TrainConfig = { ...config, dataset: 'mnist', out: join(out, 'mnist') };
  const data = await openRunData(settings);
  const asked = configForData(settings, data);
  const read = (c: TrainConfig, sources = data.sources) => readFinishedRun(c, sources);
  assert.ok(await read(asked), 'the same settings');
  assert.ok(await read({ ...asked, dataDir: '/elsewhere', shardsDir: '/other' }), 'where the files are does not matter');
  assert.equal(await read({ ...asked, seed: 1 }), undefined);
  assert.equal(await read({ ...asked, augmentation: { ...asked.augmentation, cutout: 0 } }), undefined);
  assert.equal(await read({ ...asked, out: join(out, 'nothing-here') }), undefined);
  assert.equal(await read(asked, { ...data.sources, 'train-images-idx3-ubyte.gz': '0'.repeat(32) }), undefined, 'other images');
  const summaryFile = join(asked.out, 'summary.json');
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { interrupted: boolean };
  writeFileSync(summaryFile, JSON.stringify({ ...summary, interrupted: true }));
  assert.equal(await read(asked), undefined);
  assert.ok(existsSync(join(asked.out, 'model.safetensors')), 'nothing was deleted');
});

it('a folder of images is benched by its name, in the recipe train would choose, and trained again once a file is removed', { timeout: 10 * 60_000 }, async () => {
  const { info, test } = await loadDataset('mnist', { dataDir: config.dataDir, split: 'test' });
  const folder = join(out, 'digits');
  await writePngFolder(folder, test!, info.classes, 400);
  // No recipe named, as \`bench explain\` runs by default: the images choose it, as they do for \`train\`.
  const settings = { recipe: 'auto' as const, width: 4, epochs: 1, augment: 'online' as const, folder: { cacheDir: join(out, 'cache') } };
  const folderBench = (trained: string[], reused: string[]) => benchDatasets({
    settings, out: join(out, 'folder-bench'), datasets: [folder], compareAugmentation: true, gradcamImages: 2, title: (network) => `where does ${network} look?`,
    hooks: (run) => ({ onEpoch: () => trained.push(run), onReuse: () => reused.push(run) }),
  });
  const trained: string[] = [];
  const first = await folderBench(trained, []);
  assert.deepEqual(trained, ['digits', 'digits-no-augmentation']);
  assert.deepEqual(first.rows.map((r) => [r.dataset, r.status]), [['digits', 'ok'], ['digits, no augmentation', 'ok']]);
  // 400 images, a tenth held out: the batch is capped so that an epoch still has several steps.
  const summaries = ['digits', 'digits-no-augmentation'].map((run) => JSON.parse(readFileSync(join(out, 'folder-bench', run, 'summary.json'), 'utf8')) as { config: TrainConfig });
  assert.deepEqual(summaries.map((s) => s.config.recipe), ['fast', 'fast'], 'both runs train the recipe train chooses for 28x28 images');
  assert.ok(summaries[0]!.config.batchSize < recipeDefaults.fast.batchSize, `batch ${summaries[0]!.config.batchSize}`);
  assert.ok(existsSync(join(out, 'folder-bench', 'digits-gradcam.png')));
  const report = readFileSync(join(out, 'folder-bench', 'report.html'), 'utf8');
  assert.ok(report.includes('digits: Grad-CAM'));
  assert.ok(report.includes(`where does ${recipes.fast.networkName} look?`), 'the title names the network trained');

  const reused: string[] = [];
  await folderBench([], reused);
  assert.deepEqual(reused, ['digits', 'digits-no-augmentation'], 'the same folder and settings: reused, the capped batch included');

  await unlink(join(folder, info.classes[test!.labels[0]!]!, '00000.png'));
  const retrained: string[] = [];
  await folderBench(retrained, []);
  assert.deepEqual(retrained, ['digits', 'digits-no-augmentation'], 'one image fewer is other data');
});
