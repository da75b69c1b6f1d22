/**
 * @file A full disk while a run writes: the write of the second epoch's checkpoint, or of a
 * precomputed shard, fails with ENOSPC (injected into node:fs). The error names the file and says
 * what to do, nothing half-written is left, the first epoch's checkpoint and training state are
 * intact, and `resume` then finishes the run exactly as an uninterrupted one.
 */
import { strict as assert } from 'node:assert';
import fs, { existsSync, readdirSync } from 'node:fs';
import fsPromises, { mkdtemp, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, afterEach, before, it } from 'node:test';
import { createBackend } from '../backends/index.js';
import { UserError } from '../core/errors.js';
import type { OpenedDataset } from '../data/open.js';
import { readSafetensors } from '../io/safetensors-file.js';
import { plantedPatchSet } from '../testing/sanity-fixtures.js';
import { recipe } from './settings.js';
import { readTrainProgress } from './train-state.js';
import { train } from './trainer.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'kilosecond-full-disk-')); });
after(() => rm(dir, { recursive: true, force: true }));

const originals = { writeFileSync: fs.writeFileSync, writeFile: fsPromises.writeFile };
afterEach(() => {
  fs.writeFileSync = originals.writeFileSync;
  fsPromises.writeFile = originals.writeFile;
  syncBuiltinESMExports();
});

const enospc = (path: unknown): NodeJS.ErrnoException => Object.assign(new Error(`ENOSPC: no space left on device, write '${String(path)}'`), { code: 'ENOSPC' });

const trainSet = plantedPatchSet(1024, 5);
const testSet = plantedPatchSet(256, 6);
const data: OpenedDataset = {
  info: { ...trainSet.info, trainCount: trainSet.set.count, testCount: testSet.set.count },
  train: trainSet.set, test: testSet.set, sources: { synthetic: 'planted patches, seeds 5 and 6' }, openSeconds: 0,
};
const deps = { createBackend, openData: () => Promise.resolve(data) };
const settings = (out: string) => ({ ...recipe, dataset: 'planted', out: join(dir, out), shardsDir: join(dir, `${out}-shards`), width: 4, epochs: 3, batchSize: 64, precision: 'fp32' as const });

const leftovers = (folder: string) => readdirSync(folder).filter((f) => f.includes('.tmp-'));

it('a checkpoint write that finds the disk full keeps the last epoch, and the run resumes to the same model', { timeout: 10 * 60_000 }, async () => {
  const whole = await train(settings('whole'), {}, deps);

  let checkpointWrites = 0;
  fs.writeFileSync = ((path: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (basename(String(path)).startsWith('.model.safetensors.tmp-') && ++checkpointWrites === 2) throw enospc(path);
    return (originals.writeFileSync as (...a: unknown[]) => void)(path, ...rest);
  }) as typeof fs.writeFileSync;
  syncBuiltinESMExports();
  const out = join(dir, 'full');
  const failure = await train(settings('full'), {}, deps).then(() => undefined, (err: unknown) => err);
  assert.ok(failure instanceof UserError, `not a user error: ${String(failure)}`);
  assert.match(failure.message, new RegExp(`cannot write ${join(out, 'model.safetensors')}: the disk is full \\(ENOSPC\\)`));
  // The library names the setting (the command line says --resume DIR).
  assert.match(failure.message, /The model as of epoch 1 is saved in .*model\.safetensors; resume: true goes on from its last finished epoch/);
  assert.deepEqual(leftovers(out), [], 'a half-written file was left behind');
  assert.equal(readTrainProgress(out).trainedEpochs, 1);
  assert.ok(readSafetensors(join(out, 'model.safetensors')).tensors.size > 0, 'the first epoch\'s checkpoint reads');

  fs.writeFileSync = originals.writeFileSync;
  syncBuiltinESMExports();
  const resumed = await train({ ...settings('full'), resume: true }, {}, deps);
  assert.equal(resumed.history.length, 3);
  assert.equal(resumed.testAccuracy, whole.testAccuracy);
  const [a, b] = [whole.checkpoint, resumed.checkpoint].map((p) => readSafetensors(p).tensors);
  for (const [name, t] of a!) assert.deepEqual(Buffer.from(b!.get(name)!.data.buffer), Buffer.from(t.data.buffer), `${name} differs from the uninterrupted run's`);
});

it('a shard write that finds the disk full names the shard, leaves no part of it, and a second try trains', { timeout: 10 * 60_000 }, async () => {
  fsPromises.writeFile = ((path: unknown, ...rest: unknown[]) => {
    if (String(path).includes('.tfrecord')) return Promise.reject(enospc(path));
    return (originals.writeFile as (...a: unknown[]) => Promise<void>)(path, ...rest);
  }) as typeof fsPromises.writeFile;
  syncBuiltinESMExports();
  const failure = await train(settings('shards'), {}, deps).then(() => undefined, (err: unknown) => err);
  assert.ok(failure instanceof UserError, `not a user error: ${String(failure)}`);
  assert.match(failure.message, /cannot write .*\.tfrecord: the disk is full \(ENOSPC\)/);
  const shards = join(dir, 'shards-shards');
  assert.deepEqual(existsSync(shards) ? leftovers(shards) : [], []);

  fsPromises.writeFile = originals.writeFile;
  syncBuiltinESMExports();
  const result = await train(settings('shards'), {}, deps);
  assert.equal(result.history.length, 3);
});
