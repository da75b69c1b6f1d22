/**
 * @file The precision policy (precision.ts) with a fake step timer: 'auto' keeps the faster
 * precision and says why, asks for nothing it cannot run, and 'bf16' where there are no bf16
 * kernels is refused with what to do.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { UserError } from '../core/errors.js';
import type { Precision } from '../core/precision.js';
import { choosePrecision } from './precision.js';
import { commandLineMessage } from '../cli/flags.js';

const timer = (seconds: Record<Precision, number>) => {
  const asked: Precision[] = [];
  return { asked, stepSeconds: async (p: Precision) => (asked.push(p), seconds[p]) };
};

it("'auto' measures both precisions and keeps the faster, with the measured times in its reason", async () => {
  const t = timer({ fp32: 1.46, bf16: 0.82 });
  const choice = await choosePrecision('auto', { backend: 'cpu', bf16Available: true, stepSeconds: t.stepSeconds });
  assert.equal(choice.precision, 'bf16');
  assert.deepEqual(t.asked, ['fp32', 'bf16']);
  assert.deepEqual(choice.stepSeconds, { fp32: 1.46, bf16: 0.82 });
  assert.match(choice.reason, /0\.820 s against 1\.460 s in float32 \(1\.78x\)/);

  const slower = await choosePrecision('auto', { backend: 'cpu', bf16Available: true, ...timer({ fp32: 0.5, bf16: 0.6 }) });
  assert.equal(slower.precision, 'fp32', 'a CPU where bf16 is slower (AVX512-BF16 against Winograd) keeps float32');
  assert.match(slower.reason, /^float32: .*1\.20x/);
});

it("'auto' measures nothing where there is no bf16 kernel, and says why float32", async () => {
  for (const [backend, bf16Available, why] of [['cpu', false, /neither AMX nor AVX512-BF16/], ['webgpu', true, /webgpu backend has no bf16 kernels/]] as const) {
    const t = timer({ fp32: 1, bf16: 0.1 });
    const choice = await choosePrecision('auto', { backend, bf16Available, stepSeconds: t.stepSeconds });
    assert.equal(choice.precision, 'fp32');
    assert.match(choice.reason, why);
    assert.deepEqual(t.asked, []);
  }
});

it('an explicit precision is kept without measuring; bf16 where it cannot run is refused, naming the option', async () => {
  const t = timer({ fp32: 1, bf16: 2 });
  assert.equal((await choosePrecision('bf16', { backend: 'cpu', bf16Available: true, stepSeconds: t.stepSeconds })).precision, 'bf16');
  assert.equal((await choosePrecision('fp32', { backend: 'cpu', bf16Available: true, stepSeconds: t.stepSeconds })).precision, 'fp32');
  assert.deepEqual(t.asked, []);
  await assert.rejects(choosePrecision('bf16', { backend: 'cpu', bf16Available: false, stepSeconds: t.stepSeconds }),
    (err: unknown) => err instanceof UserError && /precision: 'bf16' needs a CPU with AMX or AVX512-BF16.*use precision: 'fp32' or precision: 'auto'/.test(err.message)
      && /--precision bf16 needs .* use --precision fp32 or --precision auto/.test(commandLineMessage(err)));
  await assert.rejects(choosePrecision('bf16', { backend: 'webgpu', bf16Available: true, stepSeconds: t.stepSeconds }),
    (err: unknown) => err instanceof UserError && /runs on the cpu backend only/.test(err.message));
});
