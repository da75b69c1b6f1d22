/**
 * @file End to end on real data: `kilosecond train` on Fashion-MNIST (Debian's
 * dataset-fashion-mnist, which CI installs) with a configuration reduced to fit a few minutes
 * on two cores, then `kilosecond eval` on its checkpoint, and a look at the run folder.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { decodePng } from '../testing/png-check.js';
import { repoRoot } from '../testing/paths.js';
import { needFashionMnist } from '../testing/needs.js';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { datasetInfo } from '../data/datasets.js';
import { loadDataset } from '../data/load-dataset.js';
import { writePngFolder } from '../testing/image-folders.js';
import { checkOnnx, pythonOnnx } from '../testing/onnx-check.js';

const fashionClasses = datasetInfo('fashion-mnist').classes;

const run = promisify(execFile);
const cli = join(repoRoot, 'bin', 'kilosecond.js');

it('trains Fashion-MNIST to at least 85% test accuracy, and the checkpoint evaluates to the same', { timeout: 15 * 60_000 }, async (t) => {
  if (!needFashionMnist(t)) return;
  const out = mkdtempSync(join(tmpdir(), 'kilosecond-train-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const { stdout } = await run(process.execPath, [cli, 'train', 'fashion-mnist', '--width', '8', '--epochs', '3', '--augment', 'none', '--out', out], { maxBuffer: 1 << 24 });
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { test_accuracy: number; epochs: number };
  assert.equal(summary.epochs, 3);
  assert.ok(summary.test_accuracy >= 0.85, `test accuracy ${summary.test_accuracy}`);
  assert.match(stdout, /test accuracy \d+\.\d+%/);

  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; test_accuracy: number });
  assert.deepEqual(lines.map((l) => l.epoch), [1, 2, 3]);
  assert.equal(lines[2].test_accuracy, summary.test_accuracy);

  const evaluated = await run(process.execPath, [cli, 'eval', join(out, 'model.safetensors'), '--dataset', 'fashion-mnist', '--json']);
  const e = JSON.parse(evaluated.stdout.trim()) as { test_accuracy: number; images: number };
  assert.equal(e.images, 10000);
  assert.ok(Math.abs(e.test_accuracy - summary.test_accuracy) < 1e-9, `eval ${e.test_accuracy} vs training ${summary.test_accuracy}`);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /fashion-mnist/);
  for (const chart of ['curves', 'learning-rate']) {
    assert.match(readFileSync(join(out, `${chart}.svg`), 'utf8'), /<svg/);
    const png = decodePng(readFileSync(join(out, `${chart}.png`)));
    assert.ok(png.width > 200 && png.height > 100);
  }
  assert.ok(readdirSync(out).some((f) => f.startsWith('events.out.tfevents.')), 'a TensorBoard event file');
});

it('the fast recipe trains Fashion-MNIST, and its checkpoint evaluates, predicts and explains', { timeout: 15 * 60_000 }, async (t) => {
  if (!needFashionMnist(t)) return;
  const out = mkdtempSync(join(tmpdir(), 'kilosecond-train-fast-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await run(process.execPath, [cli, 'train', 'fashion-mnist', '--recipe', 'fast', '--width', '8', '--epochs', '3', '--augment', 'online', '--out', out], { maxBuffer: 1 << 24 });
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { test_accuracy: number; config: { recipe: string; batchSize: number; tta: boolean } };
  assert.deepEqual([summary.config.recipe, summary.config.batchSize, summary.config.tta], ['fast', 1024, true]);
  assert.ok(summary.test_accuracy >= 0.85, `test accuracy ${summary.test_accuracy}`);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /the airbench network on fashion-mnist/);

  // The final evaluation used the recipe's test-time augmentation; eval --tta must agree with it exactly.
  const model = join(out, 'model.safetensors');
  const evaluated = await run(process.execPath, [cli, 'eval', model, '--dataset', 'fashion-mnist', '--tta', '--json']);
  const e = JSON.parse(evaluated.stdout.trim()) as { test_accuracy: number };
  assert.ok(Math.abs(e.test_accuracy - summary.test_accuracy) < 1e-9, `eval --tta ${e.test_accuracy} vs training ${summary.test_accuracy}`);

  const explained = join(out, 'explained');
  await run(process.execPath, [cli, 'explain', model, '--dataset', 'fashion-mnist', '--images', '4', '--out', explained]);
  assert.ok(decodePng(readFileSync(join(explained, 'gradcam.png'))).width > 0);

  // Exported to ONNX, it answers as `predict --json` does on real images, and onnx.checker accepts it.
  const onnx = join(out, 'model.onnx');
  await run(process.execPath, [cli, 'export', model, '--out', onnx]);
  if (pythonOnnx(t)) assert.deepEqual(checkOnnx(onnx).ops, ['Add', 'Conv', 'Div', 'Erf', 'Flatten', 'Gemm', 'GlobalMaxPool', 'MaxPool', 'Mul', 'Sub']);
  const { test } = await loadDataset('fashion-mnist', { split: 'test' });
  const pngs = join(out, 'pngs');
  const count = 24;
  await writePngFolder(pngs, test!, fashionClasses, count);
  const predicted = (await run(process.execPath, [cli, 'predict', model, pngs, '--json'], { maxBuffer: 1 << 24 })).stdout.trim().split('\n')
    .map((l) => JSON.parse(l) as { file: string; logits: number[] });
  assert.equal(predicted.length, count);
  const session = await InferenceSession.create(onnx);
  const pixels = Float32Array.from(test!.images.subarray(0, count * 784), (v) => v / 255);
  const { logits } = await session.run({ images: new OrtTensor('float32', pixels, [count, 1, 28, 28]) });
  const ort = logits!.data as Float32Array;
  for (const p of predicted) {
    const i = Number(p.file.match(/(\d+)\.png$/)![1]);
    const scale = Math.max(...p.logits.map(Math.abs));
    p.logits.forEach((v, c) => assert.ok(Math.abs(v - ort[i * 10 + c]!) <= 1e-4 * scale, `${p.file} class ${c}: predict ${v}, ONNX ${ort[i * 10 + c]}`));
  }
});
