import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { createBackend } from '../backends/index.js';
import { UserError } from '../core/errors.js';
import { Graph } from '../core/graph.js';
import { Sfc32 } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { Normaliser } from '../data/batch.js';
import { type DatasetInfo, datasetInfo } from '../data/datasets.js';
import { loadDataset } from '../data/load-dataset.js';
import { metaFor } from '../testing/sanity-fixtures.js';
import { ResNet9 } from '../nn/resnet9.js';
import { AirbenchNet } from '../nn/airbench.js';
import type { BatchNormState } from '../core/ops/batchnorm.js';
import { writeSafetensors } from '../io/safetensors-file.js';
import { repoRoot, sharedDir } from '../testing/paths.js';
import { checkOnnx, pythonOnnx } from '../testing/onnx-check.js';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { exportOnnx } from './onnx.js';
import { modelProtoType } from './onnx-schema.js';

const dir = await mkdtemp(join(tmpdir(), 'kilosecond-onnx-'));
const mnist = datasetInfo('mnist');
const cifar = datasetInfo('cifar10');
const checkpoints = { mnist: join(dir, 'mnist-w8.safetensors'), cifar: join(dir, 'cifar-w4.safetensors'), airbench: join(dir, 'airbench-cifar-w8.safetensors') };
const BATCH = 16;

/**
 * Batch-norm state far from the identity, so that folding it into the convolutions is really
 * tested: running means of either sign, running variances over four decades (down to 1e-3,
 * where an epsilon other than 1e-5 moves the output by 0.5% or more), scales of either sign and
 * shifts. Each scale is drawn relative to sqrt(variance), as training leaves it, so activations
 * stay of order 1 through the 8 layers instead of growing by the inverse deviations.
 */
function randomiseBatchNorm(norms: readonly BatchNormState[], seed: number): void {
  const rng = new Sfc32(seed, 0xb7, 0x4e, 0x11);
  for (const bn of norms) {
    const n = bn.weight.size;
    const variance = Float32Array.from({ length: n }, () => 10 ** (4 * rng.nextFloat() - 3));
    bn.runningVar.write(variance);
    bn.weight.write(variance.map((v) => (rng.nextFloat() < 0.1 ? -1 : 1) * (0.5 + rng.nextFloat()) * Math.sqrt(v)));
    bn.bias.write(Float32Array.from({ length: n }, () => rng.nextFloat() - 0.5));
    bn.runningMean.write(Float32Array.from({ length: n }, () => 0.4 * (rng.nextFloat() - 0.5)));
  }
}

before(async () => {
  const backend = await createBackend('reference');
  const save = async (path: string, info: DatasetInfo, width: number, seed: number) => {
    const model = new ResNet9(backend, { inChannels: info.channels, classes: info.classes.length, width }, seed);
    randomiseBatchNorm(model.blocks().map((b) => b.bn), seed);
    await saveCheckpoint(path, model, metaFor(info, width));
    model.dispose();
  };
  await save(checkpoints.mnist, mnist, 8, 1);
  await save(checkpoints.cifar, cifar, 4, 2);
  // The airbench network's batch norms have a negative scale here and there: those after a pool
  // cannot be folded into the conv before it, and are exported as a Mul and an Add instead.
  const airbench = new AirbenchNet(backend, { inChannels: 3, classes: 10, width: 8 }, 3);
  randomiseBatchNorm(airbench.groups.flatMap((group) => [group.norm1, group.norm2]), 3);
  // The first group's all positive, so that both ways are exported and checked.
  const first = airbench.groups[0].norm1.weight;
  first.write((await first.read()).map(Math.abs));
  assert.ok((await airbench.groups[1].norm1.weight.read()).some((w) => w < 0), 'a negative scale after a pool');
  airbench.whitenBias.write(Float32Array.from({ length: airbench.whitenBias.size }, (_, i) => 0.1 * Math.sin(i)));
  await saveCheckpoint(checkpoints.airbench, airbench, metaFor(cifar, 8));
  airbench.dispose();
  backend.dispose();
});
after(() => rm(dir, { recursive: true, force: true }));

/** Eval-mode logits from kilosecond itself: the cpu backend, NHWC, normalised as evaluate() does. */
async function kilosecondLogits(checkpoint: string, pixels: Uint8Array, n: number, info: DatasetInfo): Promise<Float32Array> {
  const backend = await createBackend('cpu');
  const { model, meta } = loadCheckpoint(checkpoint, backend);
  const normalised = new Float32Array(pixels.length);
  new Normaliser(meta.mean, meta.std).normalise(pixels, 0, pixels.length, normalised, 0);
  const images = Tensor.fromArray(backend, [n, info.height, info.width, info.channels], normalised);
  const g = new Graph(backend, { record: false });
  try {
    return await model.forward(g, images, { training: false }).read();
  } finally {
    g.dispose();
    images.dispose();
    model.dispose();
    backend.dispose();
  }
}

/** The exported model's logits: raw pixels / 255, NHWC bytes transposed to NCHW. */
async function onnxLogits(session: InferenceSession, pixels: Uint8Array, n: number, info: DatasetInfo): Promise<Float32Array> {
  const { height: h, width: w, channels: c } = info;
  const nchw = new Float32Array(pixels.length);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) nchw[((i * c + ch) * h + y) * w + x] = pixels[((i * h + y) * w + x) * c + ch]! / 255;
  const out = await session.run({ images: new OrtTensor('float32', nchw, [n, c, h, w]) });
  const logits = out['logits']!;
  assert.deepEqual(logits.dims, [n, info.classes.length]);
  return logits.data as Float32Array;
}

/**
 * max |a - b| / max |b|. The two sides differ only in float32 rounding: summation order inside
 * each convolution (ONNX Runtime's GEMM blocking against our kernels), batch norm folded into the
 * weights in double and rounded once, and x / 255 then (x - mean) / std in float32 against our
 * lookup table. That comes to a few 1e-7 here (the diagnostics print it); 1e-4 leaves room for
 * other CPUs and library versions, yet every real mistake tried fails it by 5x or more: a
 * transposed kernel, asymmetric padding, a missed Div, the bias of the folded batch norm, the
 * channel order of the normalisation, an epsilon of 0 instead of 1e-5.
 */
function compare(a: Float32Array, b: Float32Array): { relative: number; text: string } {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  assert.ok(scale > 1e-3, `the reference logits are all near zero (max ${scale}): the comparison would say nothing`);
  return { relative: diff / scale, text: `${diff.toExponential(2)} / ${scale.toFixed(3)} = ${(diff / scale).toExponential(2)}` };
}

async function images(info: DatasetInfo): Promise<Uint8Array> {
  const size = info.height * info.width * info.channels;
  if (info.name === 'mnist') {
    const { test } = await loadDataset('mnist', { dataDir: join(sharedDir, 'data', 'mnist'), split: 'test' });
    return test!.images.slice(0, BATCH * size);
  }
  // CIFAR-10-shaped noise: the real test set is a 170 MB archive, and any pixels test the arithmetic.
  const rng = new Sfc32(7, 8, 9, 10);
  return Uint8Array.from({ length: BATCH * size }, () => rng.nextInt(256));
}

describe('exportOnnx', () => {
  for (const [key, info, width] of [['mnist', mnist, 8], ['cifar', cifar, 4], ['airbench', cifar, 8]] as const) {
    it(`exports ${key === 'airbench' ? 'the airbench network on ' : ''}${info.name} (width ${width}) with the logits kilosecond computes, for any batch size`, async (t) => {
      const out = join(dir, `${key}.onnx`);
      const result = await exportOnnx(checkpoints[key], out);
      assert.deepEqual(result.inputShape, ['batch', info.channels, info.height, info.width]);
      assert.equal(result.bytes, (await readFile(out)).length);

      const pixels = await images(info);
      const expected = await kilosecondLogits(checkpoints[key], pixels, BATCH, info);
      const session = await InferenceSession.create(out, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      try {
        assert.deepEqual([session.inputNames, session.outputNames], [['images'], ['logits']]);
        const batch = compare(await onnxLogits(session, pixels, BATCH, info), expected);
        const classes = info.classes.length;
        const one = compare(await onnxLogits(session, pixels.subarray(0, pixels.length / BATCH), 1, info), expected.subarray(0, classes));
        t.diagnostic(`max |onnx - kilosecond| / max |kilosecond|: batch ${BATCH} ${batch.text}, batch 1 ${one.text}`);
        assert.ok(batch.relative < 1e-4, `batch ${BATCH}: ${batch.text}`);
        assert.ok(one.relative < 1e-4, `batch 1: ${one.text}`);
      } finally {
        await session.release();
      }

      const model = modelProtoType().toObject(modelProtoType().decode(await readFile(out)), { longs: Number }) as {
        opset_import: Array<{ version: number }>;
        metadata_props: Array<{ key: string; value: string }>;
      };
      assert.ok(model.opset_import[0]!.version >= 13);
      const metadata = Object.fromEntries(model.metadata_props.map((p) => [p.key, p.value]));
      assert.deepEqual(JSON.parse(metadata['classes']!), info.classes);
      assert.deepEqual(
        [metadata['producer'], metadata['dataset'], JSON.parse(metadata['mean']!), JSON.parse(metadata['std']!), JSON.parse(metadata['input_size']!)],
        ['kilosecond', info.name, info.mean, info.std, [info.height, info.width]],
      );
    });
  }

  it('writes an airbench model that onnx.checker accepts, GELU spelled out in opset-17 nodes', async (t) => {
    if (!pythonOnnx(t)) return;
    const out = join(dir, 'airbench-checked.onnx');
    await exportOnnx(checkpoints.airbench, out);
    const report = checkOnnx(out);
    assert.deepEqual(report.inputs, { images: ['batch', 3, 32, 32] });
    assert.deepEqual(report.ops, ['Add', 'Conv', 'Div', 'Erf', 'Flatten', 'Gemm', 'GlobalMaxPool', 'MaxPool', 'Mul', 'Sub']);
  });

  it('writes a model that onnx.checker accepts with full_check', async (t) => {
    if (!pythonOnnx(t)) return;
    const out = join(dir, 'checked.onnx');
    await exportOnnx(checkpoints.mnist, out);
    const report = checkOnnx(out);
    assert.equal(report.opset, 17);
    assert.deepEqual(report.inputs, { images: ['batch', 1, 28, 28] });
    assert.deepEqual(report.outputs, { logits: ['batch', 10] });
    assert.deepEqual(report.ops, ['Add', 'Conv', 'Div', 'Flatten', 'Gemm', 'GlobalMaxPool', 'MaxPool', 'Relu', 'Sub']);
    assert.deepEqual(JSON.parse(report.metadata['classes']!), mnist.classes);
  });

  it('rejects what is not a kilosecond checkpoint, and a missing folder, naming the path', async () => {
    const rejects = (checkpoint: string, out: string, pattern: RegExp) =>
      assert.rejects(exportOnnx(checkpoint, out), (err: unknown) => {
        assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
        assert.match(err.message, pattern);
        return true;
      });
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'these are not weights\n');
    await rejects(text, join(dir, 'a.onnx'), /notes\.txt: .*not safetensors/);
    const plain = join(dir, 'plain.safetensors');
    writeSafetensors(plain, new Map([['fc.weight', { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }]]));
    await rejects(plain, join(dir, 'b.onnx'), /plain\.safetensors: .*is this a kilosecond checkpoint/);
    await rejects(join(dir, 'missing.safetensors'), join(dir, 'c.onnx'), /cannot read .*missing\.safetensors/);
    await rejects(checkpoints.mnist, join(dir, 'no-such-folder', 'm.onnx'), /cannot write .*m\.onnx: the folder .*no-such-folder does not exist/);
    await mkdir(join(dir, 'folder.onnx'));
    await rejects(checkpoints.mnist, join(dir, 'folder.onnx'), /it is a folder; give a file name such as .*folder\.onnx\/model\.onnx/);
    for (const name of ['a.onnx', 'b.onnx', 'c.onnx']) assert.ok(!existsSync(join(dir, name)), `${name} was written`);
    // Failed exports leave no temporary files behind either.
    assert.deepEqual((await readdir(dir)).filter((name) => name.includes('.tmp-')), []);
  });
});

describe('kilosecond export', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'kilosecond.js'), 'export', ...args], { encoding: 'utf8' });

  it('writes the file and says what it takes and returns', () => {
    const out = join(dir, 'cli.onnx');
    const result = cli(checkpoints.cifar, '--format', 'onnx', '--out', out);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^wrote .*cli\.onnx \(\d+\.\d MB, ONNX opset 17\): input 'images' float32 \[N, 3, 32, 32\] in 0\.\.1, output 'logits' \[N, 10\]; cifar10 classes/);
    assert.ok(existsSync(out));
  });

  it('fails with a one-line message and no stack trace', () => {
    const cases: Array<[string[], RegExp]> = [
      [[checkpoints.mnist, '--format', 'tflite', '--out', join(dir, 'x.tflite')], /^kilosecond: --format tflite: unknown format; kilosecond exports onnx\n$/],
      [[join(dir, 'missing.safetensors'), '--out', join(dir, 'x.onnx')], /^kilosecond: cannot read .*missing\.safetensors/],
      [[checkpoints.mnist, '--out', join(dir, 'nowhere', 'x.onnx')], /^kilosecond: cannot write .*x\.onnx: the folder .*nowhere does not exist\n$/],
    ];
    for (const [args, pattern] of cases) {
      const result = cli(...args);
      assert.equal(result.status, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });
});
