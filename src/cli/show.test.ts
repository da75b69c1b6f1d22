import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { UserError } from '../core/errors.js';
import { decodePng, greyVariance } from '../testing/png-check.js';
import { sharedDir } from '../testing/paths.js';
import { register } from './show.js';

// Only MNIST's test split is at hand offline; --split test draws from it.
const mnistDir = join(sharedDir, 'data', 'mnist');
const outDir = await mkdtemp(join(tmpdir(), 'kilosecond-show-'));
after(() => rm(outDir, { recursive: true, force: true }));

async function show(...args: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(program);
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
  try {
    await program.parseAsync(['show', ...args], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return written.join('');
}

describe('kilosecond show', () => {
  it('writes a grid of images and their augmentations', async () => {
    const out = join(outDir, 'nested', 'mnist.png');
    const message = await show('mnist', '--out', out, '--data-dir', mnistDir, '--split', 'test', '--images', '3', '--augmentations', '2', '--seed', '9');
    assert.match(message, /wrote .*mnist\.png: 3 test images of mnist, 2 augmentations each/);
    const png = decodePng(await readFile(out));
    // 3 columns and 3 rows of 28x28 digits enlarged 4 times (112 px), plus titles and captions.
    assert.ok(png.width >= 3 * 112 && png.width < 3 * 112 + 100, `width ${png.width}`);
    assert.ok(png.height >= 3 * 112 && png.height < 3 * 112 + 200, `height ${png.height}`);
    assert.ok(greyVariance(png) > 0);
  });

  it('names the option a bad value was given to', async () => {
    await assert.rejects(show('mnist', '--out', join(outDir, 'x.png'), '--images', '0'), (err: unknown) => {
      assert.ok(err instanceof CommanderError);
      assert.match(err.message, /--images.*integer from 1 to 64/);
      return true;
    });
  });

  it('rejects an unknown dataset with a user error', async () => {
    await assert.rejects(show('imagenet', '--out', join(outDir, 'x.png')), UserError);
  });
});
