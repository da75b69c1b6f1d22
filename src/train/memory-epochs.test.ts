/**
 * @file A run's memory does not grow with its epochs: the precomputed epochs are streamed from
 * their shards, one at a time, not held; evaluation reuses what training left in the pool. A
 * synthetic set of 16,000 images (16 MB an epoch as bytes, 64 MB as the loader's floats) trains
 * six epochs; the resident memory of the last two stays where the first two left it, and
 * summary.json records the peak.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createBackend } from '../backends/index.js';
import type { OpenedDataset } from '../data/open.js';
import { plantedPatchSet } from '../testing/sanity-fixtures.js';
import { train } from './trainer.js';
import { recipe } from './settings.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'kilosecond-memory-epochs-')); });
after(() => rm(dir, { recursive: true, force: true }));

it('keeps the resident memory of epochs 5-6 within 48 MB of epochs 1-2, and records the peak', { timeout: 10 * 60_000 }, async () => {
  const train_ = plantedPatchSet(16000, 1);
  const test = plantedPatchSet(1000, 2);
  const info = { ...train_.info, trainCount: train_.set.count, testCount: test.set.count };
  const data: OpenedDataset = { info, train: train_.set, test: test.set, sources: { synthetic: 'planted patches, seeds 1 and 2' }, openSeconds: 0 };
  const rssByEpoch: number[] = [];
  const result = await train(
    { ...recipe, dataset: 'planted', out: join(dir, 'run'), shardsDir: join(dir, 'shards'), width: 4, epochs: 6, precision: 'fp32' },
    { onEpoch: () => void rssByEpoch.push(process.memoryUsage.rss() / 2 ** 20) },
    { createBackend, openData: () => Promise.resolve(data) },
  );
  assert.equal(rssByEpoch.length, 6);
  const early = Math.max(...rssByEpoch.slice(0, 2));
  const late = Math.max(...rssByEpoch.slice(4));
  assert.ok(late <= early + 48, `resident memory grew from ${early.toFixed(0)} MB (epochs 1-2) to ${late.toFixed(0)} MB (epochs 5-6): ${rssByEpoch.map((r) => r.toFixed(0)).join(', ')}`);
  const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8')) as { peak_rss_mb: number };
  assert.equal(summary.peak_rss_mb, Math.round(result.peakRssMb));
  assert.ok(result.peakRssMb >= Math.max(...rssByEpoch) - 16 && result.peakRssMb < 4096, `peak ${result.peakRssMb} MB, by epoch ${rssByEpoch.join(', ')}`);
});
