/**
 * @file The run recorder opens a run folder as a fresh run or a resumed one: a run trained over
 * (overwrite) leaves no event file of the old run for TensorBoard to draw beside the new one,
 * while a resumed run keeps its earlier sessions' events and checkpoint.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createBackend } from '../backends/index.js';
import type { Backend } from '../core/backend.js';
import { createNetwork } from '../nn/create-network.js';
import { parametersOf } from '../nn/network.js';
import { Sgd } from '../optim/sgd.js';
import { RunRecorder } from './recorder.js';

let backend: Backend;
let dir: string;
before(async () => {
  backend = await createBackend('reference');
  dir = await mkdtemp(join(tmpdir(), 'kilosecond-recorder-'));
});
after(async () => {
  backend.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function openIn(out: string, resumed: boolean): Promise<string[]> {
  const model = createNetwork(backend, { architecture: 'resnet9', inChannels: 1, classes: 2, width: 1 });
  const optimiser = new Sgd(parametersOf(model), { momentum: 0.9, weightDecay: 0, nesterov: true });
  try {
    const recorder = await RunRecorder.open({
      out, model, optimiser, stepsPerEpoch: 1,
      checkpointMeta: () => ({ dataset: 'x', classes: ['a', 'b'], inChannels: 1, width: 1, mean: [0.5], std: [0.25], inputSize: [8, 8] }),
      trainProgress: (p) => ({ settings: {}, width: 1, plannedEpochs: 1, trainedEpochs: p.history.length, plan: null, history: p.history, learningRates: p.learningRates, seconds: { data_preparation: 0, calibration: 0, training: 0, evaluation: 0 } }),
    }, { history: [], learningRates: [], trainSeconds: 0, evalSeconds: 0 }, resumed);
    recorder.close();
    return readdirSync(out).sort();
  } finally {
    optimiser.dispose();
    model.dispose();
  }
}

it("a fresh run removes the old run's checkpoint and event files; a resumed one keeps them", async () => {
  for (const resumed of [false, true]) {
    const out = join(dir, resumed ? 'resumed' : 'fresh');
    await rm(out, { recursive: true, force: true });
    await mkdir(out);
    writeFileSync(join(out, 'model.safetensors'), 'the old model');
    writeFileSync(join(out, 'events.out.tfevents.1700000000.oldhost'), 'the old curves');
    writeFileSync(join(out, 'notes.txt'), 'not the run\'s');
    const files = await openIn(out, resumed);
    assert.equal(existsSync(join(out, 'events.out.tfevents.1700000000.oldhost')), resumed, `old events kept: ${resumed}`);
    assert.equal(existsSync(join(out, 'model.safetensors')), resumed, `old checkpoint kept: ${resumed}`);
    assert.ok(files.includes('notes.txt'), 'a file not of the run stays');
    assert.equal(files.filter((f) => f.startsWith('events.out.tfevents.')).length, resumed ? 2 : 1, files.join(', '));
  }
});
