/**
 * @file Errors from below the command line name settings, and a command prints them as flags that
 * it accepts (its --help lists them), with no stack trace: every command that reads a dataset,
 * given files that fail verification; and a few commands' other advice.
 */
import { strict as assert } from 'node:assert';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createBackend } from '../backends/index.js';
import { datasetInfo } from '../data/datasets.js';
import { encodeIdx } from '../data/idx.js';
import { ResNet9 } from '../nn/resnet9.js';
import { saveCheckpoint } from '../train/checkpoint.js';
import { metaFor } from '../testing/sanity-fixtures.js';
import { cliFailure, runCli } from '../testing/cli.js';
import { sharedDir } from '../testing/paths.js';

const mnist = datasetInfo('mnist');
let dir: string;
let bad: string;
let model: string;

/** The options a command's --help lists. */
async function acceptedFlags(command: string[]): Promise<Set<string>> {
  const { stdout } = await runCli([...command, '--help']);
  return new Set(stdout.match(flagWord) ?? []);
}

const flagWord = /--[a-z][a-z0-9-]*/g;

/** What the command told the user as it failed; every flag it advises is one the command accepts. */
async function complaint(command: string[], rest: string[]): Promise<string> {
  const accepted = await acceptedFlags(command);
  const e = await cliFailure([...command, ...rest]);
  assert.equal(e.code, 1);
  for (const flag of e.stderr.match(flagWord) ?? []) assert.ok(accepted.has(flag), `${command.join(' ')} advises ${flag}, which it does not accept:\n${e.stderr}`);
  return e.stderr;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilosecond-advice-'));
  // Real MNIST images, but label files of the right form whose content is not the official one.
  bad = join(dir, 'mnist');
  await mkdir(bad);
  for (const f of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz']) await copyFile(join(sharedDir, 'data', 'mnist', f), join(bad, f));
  await writeFile(join(bad, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([60000], new Uint8Array(60000))));
  await writeFile(join(bad, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([10000], new Uint8Array(10000))));
  const backend = await createBackend('reference');
  const net = new ResNet9(backend, { inChannels: 1, classes: 10, width: 2 }, 0);
  model = join(dir, 'model.safetensors');
  await saveCheckpoint(model, net, metaFor(mnist, 2));
  net.dispose();
  backend.dispose();
});
after(() => rm(dir, { recursive: true, force: true }));

const out = () => join(dir, 'out');
const commands: Array<{ name: string; command: string[]; rest: () => string[] }> = [
  { name: 'train', command: ['train'], rest: () => ['mnist', '--out', out()] },
  { name: 'eval', command: ['eval'], rest: () => [model, '--dataset', 'mnist'] },
  { name: 'explain', command: ['explain'], rest: () => [model, '--dataset', 'mnist', '--out', out()] },
  { name: 'precompute', command: ['precompute'], rest: () => ['mnist', '--epochs', '1', '--out', out()] },
  { name: 'show', command: ['show'], rest: () => ['mnist', '--split', 'test', '--out', join(out(), 'grid.png')] },
  { name: 'bench datasets', command: ['bench', 'datasets'], rest: () => ['--datasets', 'mnist', '--out', out()] },
  { name: 'bench explain', command: ['bench', 'explain'], rest: () => ['mnist', '--out', out()] },
];

for (const c of commands) {
  test(`${c.name}: the md5 error's advice names only options ${c.name} accepts`, async () => {
    const shown = await complaint(c.command, [...c.rest(), '--data-dir', bad]);
    assert.match(shown, /labels-idx1-ubyte\.gz.*md5.*or pass --no-verify to use it anyway/);
  });
}

test('precompute: an augmentation the images cannot take names the flag', async () => {
  const shown = await complaint(['precompute'], ['mnist', '--epochs', '1', '--out', out(), '--data-dir', join(sharedDir, 'data', 'mnist'), '--pad', '40']);
  assert.equal(shown, 'kilosecond: --pad 40: the padding must be an integer from 0 to 27 for 28x28 images\n');
});

test('train: an --out that already holds a model advises --force and --resume with the folder', async () => {
  const run = join(dir, 'run');
  await mkdir(run, { recursive: true });
  await writeFile(join(run, 'model.safetensors'), '');
  const shown = await complaint(['train'], ['mnist', '--out', run]);
  assert.equal(shown, `kilosecond: ${run} already holds a model (model.safetensors): pass --force to train over it, --resume ${run} to go on with it, or choose another --out\n`);
});

test('bench explain and bench datasets: a dataset that is neither a name nor a folder says what to give, before training anything', async () => {
  const missing = join(dir, 'no-such-folder');
  const expected = `kilosecond: unknown dataset '${missing}': give one of mnist, fashion-mnist, cifar10, or the path of a folder of images (one subfolder per class)\n`;
  assert.equal(await complaint(['bench', 'explain'], [missing, '--out', out()]), expected);
  assert.equal(await complaint(['bench', 'datasets'], ['--datasets', `mnist,${missing}`, '--out', out()]), expected);
});
