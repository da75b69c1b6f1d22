/**
 * @file A folder of images trains like the built-in dataset it holds: the real Fashion-MNIST
 * written out as PNG folders (train/ and test/, one folder per class), trained through the folder
 * and through the built-in name with the same settings and seed. Then `predict` on the folder
 * model's checkpoint answers as the model does on the same test images, and so does its ONNX export.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createBackend } from '../backends/index.js';
import { Graph } from '../core/graph.js';
import { Tensor } from '../core/tensor.js';
import { Normaliser } from '../data/batch.js';
import { loadDataset } from '../data/load-dataset.js';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { exportOnnx } from '../export/onnx.js';
import { imageFilesIn, predictFiles } from '../predict/predict.js';
import { writePngFolder } from '../testing/image-folders.js';
import { needFashionMnist } from '../testing/needs.js';
import { loadCheckpoint } from './checkpoint.js';
import { train } from './trainer.js';
import { recipe, type TrainConfig } from './settings.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'kilosecond-folder-train-')); });
after(() => rm(dir, { recursive: true, force: true }));

const settings = { ...recipe, width: 8, epochs: 2, augment: 'online' as const, recalibrateBatches: 0 };

it('Fashion-MNIST as PNG folders: within 1 point of the built-in run, its own normalisation within 0.002 of the published', { timeout: 20 * 60_000 }, async (t) => {
  if (!needFashionMnist(t)) return;
  const { train: trainSet, test: testSet, info } = await loadDataset('fashion-mnist', { cacheDir: join(dir, 'no-cache') });
  const folder = join(dir, 'fashion-png');
  await writePngFolder(join(folder, 'train'), trainSet!, info.classes);
  await writePngFolder(join(folder, 'test'), testSet!, info.classes);

  const config = (dataset: string, out: string): TrainConfig => ({ ...settings, dataset, out: join(dir, out), folder: { cacheDir: join(dir, 'decode-cache') } });
  const builtin = await train(config('fashion-mnist', 'builtin'));
  const fromFolder = await train(config(folder, 'folder'));
  assert.deepEqual([fromFolder.info.height, fromFolder.info.channels, fromFolder.info.trainCount, fromFolder.info.testCount], [28, 1, 60000, 10000]);
  assert.ok(Math.abs(fromFolder.info.mean[0]! - 0.2860) < 0.002, `mean ${fromFolder.info.mean[0]}`);
  assert.ok(Math.abs(fromFolder.info.std[0]! - 0.3530) < 0.002, `std ${fromFolder.info.std[0]}`);
  assert.ok(Math.abs(fromFolder.testAccuracy - builtin.testAccuracy) <= 0.01, `folder ${fromFolder.testAccuracy} vs built-in ${builtin.testAccuracy}`);

  const summary = JSON.parse(readFileSync(join(dir, 'folder', 'summary.json'), 'utf8')) as { folder: { layout: string; class_counts: { train: number[]; test: number[] } } };
  assert.equal(summary.folder.layout, 'train/test folders');
  assert.deepEqual(summary.folder.class_counts.test, new Array(10).fill(1000));

  // predict reads the files itself, with the checkpoint's preprocessing: it must answer as the model does.
  const files = imageFilesIn([join(folder, 'test', 'Bag'), join(folder, 'test', 'Coat')]).slice(0, 40);
  const backend = await createBackend('cpu');
  try {
    const predictions = await predictFiles(fromFolder.checkpoint, files, backend, { topK: 3, batchSize: 16 });
    const { model, meta } = loadCheckpoint(fromFolder.checkpoint, backend);
    const indices = files.map((f) => Number(f.match(/(\d+)\.png$/)![1]));
    const input = new Float32Array(files.length * 784);
    const normaliser = new Normaliser(meta.mean, meta.std);
    indices.forEach((n, i) => normaliser.normalise(testSet!.images, n * 784, 784, input, i * 784));
    const images = Tensor.fromArray(backend, [files.length, 28, 28, 1], input);
    const g = new Graph(backend, { record: false });
    const logits = await model.forward(g, images, { training: false }).read();
    g.dispose();
    images.dispose();
    model.dispose();
    predictions.forEach((p, i) => {
      const row = logits.subarray(i * 10, i * 10 + 10);
      const scale = Math.max(...row.map(Math.abs));
      p.logits.forEach((v, c) => assert.ok(Math.abs(v - row[c]!) <= 1e-4 * scale, `${p.file} class ${c}: ${v} vs ${row[c]}`));
      assert.equal(p.top[0]!.class, meta.classes[row.indexOf(Math.max(...row))]);
      assert.ok(p.top[0]!.probability >= p.top[1]!.probability && p.top.length === 3);
    });

    // The folder model exported to ONNX answers as predict does: 0..1 NCHW in, logits out.
    const onnx = join(dir, 'folder.onnx');
    await exportOnnx(fromFolder.checkpoint, onnx);
    const session = await InferenceSession.create(onnx);
    const pixels = Float32Array.from({ length: files.length * 784 }, (_, j) => testSet!.images[indices[Math.floor(j / 784)]! * 784 + (j % 784)]! / 255);
    const { logits: ort } = await session.run({ images: new OrtTensor('float32', pixels, [files.length, 1, 28, 28]) });
    const onnxLogits = ort!.data as Float32Array;
    predictions.forEach((p, i) => {
      const scale = Math.max(...p.logits.map(Math.abs));
      p.logits.forEach((v, c) => assert.ok(Math.abs(v - onnxLogits[i * 10 + c]!) <= 1e-4 * scale, `${p.file} class ${c}: predict ${v}, ONNX ${onnxLogits[i * 10 + c]}`));
    });
  } finally {
    backend.dispose();
  }
});
