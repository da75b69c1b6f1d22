/**
 * @file A device lost in the middle of a run (issue 6's "bad input"): the trainer fails with the
 * backend's clear message, says where the last finished epoch's checkpoint is, and that
 * checkpoint loads. The lost device is the CPU backend with its convolutions made to throw the
 * UserError a lost WebGPU device raises, from the second epoch on.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { createBackend } from '../backends/index.js';
import { readSafetensors } from '../io/safetensors-file.js';
import { openRunData } from './run-data.js';
import { train } from './trainer.js';
import { recipe } from './settings.js';
import { needFashionMnist } from '../testing/needs.js';

const lostMessage = 'WebGPU: the GPU device was lost (test); use `--backend cpu` instead';

it('a device lost in epoch 2 fails clearly and leaves epoch 1 checkpointed', { timeout: 10 * 60_000 }, async (t) => {
  if (!needFashionMnist(t)) return;
  const out = mkdtempSync(join(tmpdir(), 'kilosecond-lost-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  let lost = false;
  const losingBackend = async (name: string): Promise<Backend> => {
    const backend = await createBackend(name);
    return new Proxy(backend, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key !== 'conv3x3' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          if (lost) throw new UserError(lostMessage);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  const settings = { ...recipe, dataset: 'fashion-mnist' as const, width: 8, epochs: 3, augment: 'none' as const, out, recalibrateBatches: 0 };

  await assert.rejects(
    train(settings, { onEpoch: () => { lost = true; } }, { createBackend: losingBackend, openData: openRunData }),
    (err: unknown) => {
      assert.ok(err instanceof UserError, String(err));
      assert.ok(err.message.startsWith(lostMessage), err.message);
      assert.match(err.message, new RegExp(`The model as of epoch 1 is saved in ${join(out, 'model.safetensors').replace(/[.\\/]/g, '\\$&')}; resume`));
      return true;
    },
  );
  const { metadata } = readSafetensors(join(out, 'model.safetensors'));
  assert.equal((JSON.parse(metadata.config!) as { trainedEpochs: number }).trainedEpochs, 1);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1);
});
