/**
 * @file `kilosecond train` refuses bad input with one clear line and a non-zero exit, no stack
 * trace, and leaves nothing half-written.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, it } from 'node:test';
import { cliFailure } from '../testing/cli.js';
import { needFashionMnist } from '../testing/needs.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kilosecond-train-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function fails(args: string[]): Promise<string> {
  const e = await cliFailure(args);
  assert.notEqual(e.code, 0);
  return e.stderr;
}

it('an unknown dataset lists the valid ones', async () => {
  assert.match(await fails(['train', 'imagenet']), /unknown dataset 'imagenet': give one of mnist, fashion-mnist, cifar10, or the path of a folder of images/);
});

it('a bad option value names the option', async () => {
  assert.match(await fails(['train', 'mnist', '--epochs', '0']), /--epochs takes a whole number above 0/);
  assert.match(await fails(['train', 'mnist', '--pad-mode', 'edge']), /--pad-mode/);
});

it('an unknown recipe lists the recipes; an option the fast recipe has no use for is refused by name', async () => {
  assert.match(await fails(['train', 'mnist', '--recipe', 'speedy']), /--recipe.*'speedy' is invalid\. Allowed choices are auto, dawnbench, fast/);
  const stderr = await fails(['train', 'mnist', '--recipe', 'fast', '--cutout', '4', '--out', join(dir, 'fast-cutout')]);
  assert.match(stderr, /--cutout: the fast recipe has no cutout .*drop it, or use --recipe dawnbench/);
  assert.ok(!existsSync(join(dir, 'fast-cutout')), 'refused before anything is written');
});

// The two tests below get past data loading, so they need Fashion-MNIST (CI installs it).
it('an impossible budget says so before training starts, and writes no checkpoint', async (t) => {
  if (!needFashionMnist(t)) return;
  const out = join(dir, 'budget');
  const stderr = await fails(['train', 'fashion-mnist', '--budget', '1', '--width', '4', '--out', out]);
  const smallest = /the smallest that can is (\d+) s .*Raise --budget to at least (\d+)/.exec(stderr);
  assert.ok(smallest && smallest[1] === smallest[2] && Number(smallest[1]) > 1, stderr);
  assert.match(stderr, /a budget of 1 s cannot fit one epoch here/);
  assert.ok(!existsSync(join(out, 'model.safetensors')));
});

it('a memory limit no step fits says what is needed before training, naming the flags that help', async (t) => {
  if (!needFashionMnist(t)) return;
  const out = join(dir, 'memory');
  // The process alone holds more than 0.05 GB: nothing is left for a step.
  const stderr = await fails(['train', 'fashion-mnist', '--max-memory', '0.05', '--width', '4', '--epochs', '1', '--out', out]);
  assert.match(stderr, /not enough memory to train here: the fast recipe at width 4 needs about [\d.]+ GB at its smallest batch, and the limit of 0.05 GB asked leaves 0.00 GB\. Close other programs, give a smaller --width, or raise --max-memory if you set it\./);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  assert.ok(!existsSync(join(out, 'model.safetensors')));
});

it('an unwritable --out gives a clear error', async (t) => {
  if (!needFashionMnist(t)) return;
  if (process.getuid?.() === 0) {
    // root writes anywhere: use a path under a regular file instead of a read-only folder.
    const file = join(dir, 'a-file');
    await run('touch', [file]);
    assert.match(await fails(['train', 'fashion-mnist', '--out', join(file, 'run')]), /cannot write to --out/);
    return;
  }
  const locked = join(dir, 'locked');
  await run('mkdir', [locked]);
  chmodSync(locked, 0o500);
  t.after(() => chmodSync(locked, 0o700));
  assert.match(await fails(['train', 'fashion-mnist', '--out', join(locked, 'run')]), /cannot write to --out/);
  assert.deepEqual(readdirSync(locked), []);
});
