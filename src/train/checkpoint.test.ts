/**
 * @file Checkpoints interchange with PyTorch both ways (checked against Debian's PyTorch where it
 * is installed, as in CI), and bad files give errors that name the tensor and the file.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { UserError } from '../core/errors.js';
import { Graph } from '../core/graph.js';
import { Tensor } from '../core/tensor.js';
import { needTorch } from '../testing/needs.js';
import type { Network } from '../nn/network.js';
import { ResNet9 } from '../nn/resnet9.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors-file.js';
import { nchwToNhwc, relativeError } from '../selftest/fixture.js';
import { repoRoot } from '../testing/paths.js';
import { loadCheckpoint, readCheckpointMeta, saveCheckpoint } from './checkpoint.js';
import { encodeCheckpoint } from './checkpoint-format.js';
import { AirbenchNet } from '../nn/airbench.js';

const backend = createReferenceBackend();
const dir = mkdtempSync(join(tmpdir(), 'kilosecond-checkpoint-'));
const meta = { dataset: 'mnist', classes: ['a', 'b', 'c'], inChannels: 1, width: 4, mean: [0.1], std: [0.3], inputSize: [12, 12] as [number, number] };
const script = join(repoRoot, 'scripts', 'torch_checkpoint.py');

async function evalLogits(model: Network, nchw: Float32Array, [n, c, h, w]: number[]): Promise<Float32Array> {
  const g = new Graph(backend, { record: false });
  const x = Tensor.fromArray(backend, [n, h, w, c], nchwToNhwc(nchw, n, c, h, w));
  try {
    return await model.forward(g, x, { training: false }).read();
  } finally {
    x.dispose();
    g.dispose();
  }
}

describe('checkpoints', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('save then load restores every tensor and the metadata', async () => {
    const model = new ResNet9(backend, { inChannels: 1, classes: 3, width: 4 }, 5);
    model.blocks()[2].bn.batchesTracked = 7;
    const path = join(dir, 'roundtrip.safetensors');
    await saveCheckpoint(path, model, meta);
    // The file holds exactly the bytes a page without a file system makes.
    assert.deepEqual(new Uint8Array(readFileSync(path)), await encodeCheckpoint(model, meta));
    const loaded = loadCheckpoint(path, backend);
    assert.deepEqual(loaded.meta.classes, meta.classes);
    assert.deepEqual(loaded.meta.inputSize, [12, 12]);
    assert.equal((loaded.model as ResNet9).blocks()[2].bn.batchesTracked, 7);
    const x = Float32Array.from({ length: 2 * 144 }, (_, i) => Math.cos(i));
    assert.deepEqual(await evalLogits(loaded.model, x, [2, 1, 12, 12]), await evalLogits(model, x, [2, 1, 12, 12]));
  });

  it('a file missing a tensor, with an extra one, or misshaped is refused with its name', async () => {
    const model = new ResNet9(backend, { inChannels: 1, classes: 3, width: 4 });
    const path = join(dir, 'good.safetensors');
    await saveCheckpoint(path, model, meta);
    const file = readSafetensors(path);
    const variants: Array<[string, (t: typeof file.tensors) => void, RegExp]> = [
      ['missing', (t) => t.delete('layer2.bn.bias'), /missing tensor 'layer2\.bn\.bias'/],
      ['extra', (t) => t.set('fc.bias', { dtype: 'F32', shape: [1], data: new Float32Array(1) }), /unexpected tensor 'fc\.bias'/],
      ['misshaped', (t) => t.set('classifier.weight', { dtype: 'F32', shape: [3, 8], data: new Float32Array(24) }), /'classifier\.weight' has shape \[3,8\], expected \[3,32\]/],
    ];
    for (const [name, change, message] of variants) {
      const tensors = new Map(file.tensors);
      change(tensors);
      const bad = join(dir, `${name}.safetensors`);
      writeSafetensors(bad, tensors, file.metadata);
      assert.throws(() => loadCheckpoint(bad, backend), (e: Error) => e instanceof UserError && message.test(e.message) && e.message.includes(bad));
    }
    writeSafetensors(join(dir, 'nometa.safetensors'), file.tensors, {});
    assert.throws(() => loadCheckpoint(join(dir, 'nometa.safetensors'), backend), /no 'dataset'.*kilosecond checkpoint/);
  });

  it('PyTorch loads our checkpoint with strict=True and computes the same logits', async (t) => {
    if (!needTorch(t)) return;
    const model = new ResNet9(backend, { inChannels: 1, classes: 3, width: 4 }, 9);
    const path = join(dir, 'to-torch.safetensors');
    await saveCheckpoint(path, model, meta);
    const x = Float32Array.from({ length: 2 * 144 }, (_, i) => Math.sin(0.3 * i));
    const input = join(dir, 'input.f32');
    writeFileSync(input, Buffer.from(x.buffer));
    const torchLogits = JSON.parse(execFileSync('/usr/bin/python3', [script, 'load', path, '1', '3', '4', input, '2', '12', '12'], { encoding: 'utf8' })) as number[];
    assert.ok(relativeError(await evalLogits(model, x, [2, 1, 12, 12]), torchLogits) < 1e-5);
  });

  it('the fast recipe\'s network: PyTorch loads its checkpoint with strict=True and computes the same logits', async (t) => {
    if (!needTorch(t)) return;
    const model = new AirbenchNet(backend, { inChannels: 1, classes: 3, width: 2 }, 4);
    model.setWhitening(Float32Array.from({ length: model.whitenWeight.size }, (_, i) => Math.cos(i)));
    const path = join(dir, 'airbench-to-torch.safetensors');
    await saveCheckpoint(path, model, { ...meta, width: 2 });
    assert.equal(readCheckpointMeta(path).architecture, 'airbench');
    const x = Float32Array.from({ length: 2 * 256 }, (_, i) => Math.sin(0.3 * i));
    const input = join(dir, 'airbench-input.f32');
    writeFileSync(input, Buffer.from(x.buffer));
    const args = [script, 'load', path, '1', '3', '2', input, '2', '16', '16', '--arch', 'airbench'];
    const torchLogits = JSON.parse(execFileSync('/usr/bin/python3', args, { encoding: 'utf8' })) as number[];
    const { model: loaded } = loadCheckpoint(path, backend);
    assert.ok(relativeError(await evalLogits(loaded, x, [2, 1, 16, 16]), torchLogits) < 1e-5);
    assert.ok(relativeError(await evalLogits(model, x, [2, 1, 16, 16]), torchLogits) < 1e-5);
  });

  it('a checkpoint whose tensors are the other architecture\'s says which network they are', async () => {
    const path = join(dir, 'airbench.safetensors');
    await saveCheckpoint(path, new AirbenchNet(backend, { inChannels: 1, classes: 3, width: 2 }), { ...meta, width: 2 });
    const file = readSafetensors(path);
    const relabelled = join(dir, 'relabelled.safetensors');
    writeSafetensors(relabelled, file.tensors, { ...file.metadata, format: 'kilosecond-resnet9' });
    assert.throws(() => loadCheckpoint(relabelled, backend), (e: Error) => e instanceof UserError &&
      /does not fit ResNet9\(in_channels=1, classes=3, width=2\)/.test(e.message) && /its tensors are AirbenchNet\(in_channels=1, classes=3, widths=\(2, 8, 8\)\)'s/.test(e.message));
  });

  it('loads a state dict that PyTorch saved and computes the same logits', async (t) => {
    if (!needTorch(t)) return;
    const path = join(dir, 'from-torch.safetensors');
    execFileSync('/usr/bin/python3', [script, 'save', path, '1', '10', '4']);
    const { model } = loadCheckpoint(path, backend);
    const x = Float32Array.from({ length: 3 * 28 * 28 }, (_, i) => Math.sin(0.1 * i));
    const input = join(dir, 'input28.f32');
    writeFileSync(input, Buffer.from(x.buffer));
    const torchLogits = JSON.parse(execFileSync('/usr/bin/python3', [script, 'load', path, '1', '10', '4', input, '3', '28', '28'], { encoding: 'utf8' })) as number[];
    assert.ok(relativeError(await evalLogits(model, x, [3, 1, 28, 28]), torchLogits) < 1e-5);
  });
});
