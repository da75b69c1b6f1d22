import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { encodeIdx } from '../data/idx.js';
import { register } from './precompute.js';

let scratch: string;
let dataDir: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kilosecond-cli-precompute-'));
  dataDir = join(scratch, 'mnist');
  await mkdir(dataDir);
  const n = 40;
  await writeFile(join(dataDir, 'train-images-idx3-ubyte.gz'), gzipSync(encodeIdx([n, 28, 28], Uint8Array.from({ length: n * 784 }, (_, i) => i % 256))));
  await writeFile(join(dataDir, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10))));
});
after(async () => { await rm(scratch, { recursive: true, force: true }); });

/**
 * Runs `kilosecond <args>` with only this command registered; returns what it printed. Output
 * still goes through (the test runner reports on the same stdout, possibly meanwhile).
 */
async function run(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  const printed: string[] = [];
  const [stdout, stderr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((s: string, ...rest: never[]) => { printed.push(String(s)); return stdout.call(process.stdout, s, ...rest); }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'kilosecond', ...args]);
  } finally {
    [process.stdout.write, process.stderr.write] = [stdout, stderr];
  }
  return printed.join('');
}

test('precompute writes the shards and a manifest with the options given, then reuses them', async () => {
  const out = join(scratch, 'out');
  const args = ['precompute', 'mnist', '--epochs', '2', '--out', out, '--data-dir', dataDir, '--no-verify', '--shard-size', '16', '--cutout', '0', '--seed', '9', '--no-flip'];
  assert.match(await run(args), /2 epochs of mnist in 6 shards/);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.config.augment, { crop: true, pad: 4, padMode: 'zero', flip: false, cutout: 0, cutoutCount: 0 });
  assert.equal(manifest.config.seed, 9);
  assert.deepEqual(manifest.epochs[0].map((s: { records: number }) => s.records), [16, 16, 8]);
  assert.match(await run(args), /\(2 reused from an earlier run\)/);
});

test('user mistakes: an unknown dataset, a bad number, files that fail the checksum', async () => {
  await assert.rejects(run(['precompute', 'imagenet', '--epochs', '1', '--out', scratch]), (e) => e instanceof UserError && /unknown dataset 'imagenet'/.test(e.message));
  await assert.rejects(run(['precompute', 'mnist', '--epochs', 'two', '--out', scratch]), /--epochs takes a whole number above 0, not 'two'/);
  await assert.rejects(run(['precompute', 'mnist', '--epochs', '1', '--out', join(scratch, 'x'), '--data-dir', dataDir]), (e) => e instanceof UserError && /md5 of the decompressed content/.test(e.message));
});

test('two processes precomputing the same shards at once leave a complete, valid set that a third reuses whole', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { repoRoot } = await import('../testing/paths.js');
  const { createTrainLoader } = await import('../data/loader.js');
  const { datasetInfo } = await import('../data/datasets.js');
  const { readdir } = await import('node:fs/promises');
  const cli = join(repoRoot, 'bin', 'kilosecond.js');
  const out = join(scratch, 'concurrent');
  const args = [cli, 'precompute', 'mnist', '--epochs', '3', '--out', out, '--data-dir', dataDir, '--no-verify', '--shard-size', '8'];
  const both = await Promise.all([0, 1].map(() => promisify(execFile)(process.execPath, args)));
  for (const r of both) assert.match(r.stdout, /3 epochs of mnist in 15 shards/);
  assert.deepEqual((await readdir(out)).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
  assert.match(await run(['precompute', 'mnist', '--epochs', '3', '--out', out, '--data-dir', dataDir, '--no-verify', '--shard-size', '8']), /\(3 reused from an earlier run\)/);
  // The loader checks every shard's size and CRC32C against the manifest before using it.
  const loader = await createTrainLoader({ info: datasetInfo('mnist'), batchSize: 8, mode: 'precomputed', dir: out, workers: 0 });
  try {
    for (let e = 0; e < 3; e++) {
      let images = 0;
      for await (const b of loader.epoch(e)) images += b.size;
      assert.equal(images, 40);
    }
  } finally {
    await loader.close();
  }
});
