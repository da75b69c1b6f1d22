/**
 * @file Runs survive interruption: a real Fashion-MNIST run killed (SIGKILL) part-way through an
 * epoch, and one killed right after its shards were precomputed, each resumed with
 * `train --resume`, end bit-identical to an uninterrupted run of the same command: every tensor
 * of the model and the optimiser, and every metric but the timings. The command names no recipe,
 * so it trains the fast one (the planner's choice for 28x28 images), whose session keeps a weight
 * average and a whitening layer computed from the data: both must come back as they were. Resuming with other options,
 * resuming a finished run and training over an existing run are refused, naming what to do.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { readSafetensors } from '../io/safetensors-file.js';
import { needFashionMnist } from '../testing/needs.js';
import { cli, cliFailure, runCli } from '../testing/cli.js';
import { trainStateFile } from './train-state.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'kilosecond-resume-')); });
after(() => rm(dir, { recursive: true, force: true }));

const options = () => ['--width', '4', '--epochs', '3', '--augment', 'precomputed', '--shards-dir', join(dir, 'shards'), '--seed', '7'];
const trainArgs = (out: string) => ['train', 'fashion-mnist', ...options(), '--out', out, '--no-report'];

/** Starts a run and SIGKILLs it once `ready()` holds, then waits `delayMs` more. */
async function killWhen(out: string, ready: () => boolean, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, [cli, ...trainArgs(out)], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  while (!ready()) {
    if (child.exitCode !== null) assert.fail('the run ended before it could be killed');
    await sleep(20);
  }
  await sleep(delayMs);
  child.kill('SIGKILL');
  await exited;
}

const epochsIn = (out: string) => (existsSync(join(out, 'metrics.jsonl')) ? readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).length : 0);

/** metrics.jsonl without what depends on the machine's speed. */
function metricsOf(out: string): unknown[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { train_seconds, eval_seconds, images_per_second, data_wait_seconds, ...rest } = JSON.parse(l) as Record<string, number>;
    return rest;
  });
}

function assertSameTensors(a: string, b: string): void {
  const x = readSafetensors(a).tensors;
  const y = readSafetensors(b).tensors;
  assert.deepEqual([...x.keys()].sort(), [...y.keys()].sort());
  for (const [name, t] of x) assert.deepEqual(Buffer.from(y.get(name)!.data.buffer), Buffer.from(t.data.buffer), `${name} differs`);
}

it('killed mid-epoch or right after precomputing, then resumed: bit-identical to the uninterrupted run', { timeout: 20 * 60_000 }, async (t) => {
  if (!needFashionMnist(t)) return;
  const whole = join(dir, 'whole');
  await runCli(trainArgs(whole));

  const midEpoch = join(dir, 'mid-epoch');
  await killWhen(midEpoch, () => epochsIn(midEpoch) >= 1, 1500);
  assert.ok(epochsIn(midEpoch) < 3, 'killed before the end');
  const afterPrecompute = join(dir, 'after-precompute');
  // The state before the first epoch is written once the shards exist and the model is built.
  await killWhen(afterPrecompute, () => existsSync(join(afterPrecompute, trainStateFile)), 0);

  for (const out of [midEpoch, afterPrecompute]) {
    const { stdout } = await runCli(['train', '--resume', out, '--no-report']);
    assert.match(stdout, /test accuracy \d+\.\d+% after 3 epoch/);
    assertSameTensors(join(whole, 'model.safetensors'), join(out, 'model.safetensors'));
    assertSameTensors(join(whole, trainStateFile), join(out, trainStateFile));
    assert.deepEqual(metricsOf(out), metricsOf(whole));
  }

  const refuse = async (args: string[], pattern: RegExp) => {
    const e = await cliFailure(args);
    assert.equal(e.code, 1);
    assert.match(e.stderr, pattern);
  };
  await refuse(['train', '--resume', whole], /the run finished all 3 epochs \(test accuracy \d+\.\d+%\); there is nothing to resume/);
  await refuse(['train', '--resume', midEpoch, '--lr', '0.2', '--width', '4'], /was started with other settings: --lr \(the run: 1\.5\d*, asked: 0\.2\)\. Resume/);
  await refuse(trainArgs(whole), /already holds a model \(model\.safetensors\): pass --force to train over it, --resume .* to go on with it, or choose another --out/);
  await refuse(['train', '--resume', join(dir, 'nothing')], /no train-state\.safetensors/);
});
