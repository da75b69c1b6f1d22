/**
 * @file `kilosecond eval MODEL --dataset D`: test-set accuracy of a checkpoint.
 */
import type { Command } from 'commander';
import { createBackend } from '../backends/index.js';
import { datasetNames } from '../data/datasets.js';
import { testSetForModel } from '../predict/model-data.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { trainedViews, ttaFor } from '../train/tta.js';
import { BatchUploader, evaluate } from '../train/evaluate.js';
import { DeviceMetrics } from '../train/step.js';
import { recipe } from '../train/settings.js';
import { addDataOptions, dataLoadOptions, type DataFlags } from './data-options.js';
import { positiveInt } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('eval')
    .description('evaluate a checkpoint (model.safetensors of a run folder) on a test set')
    .argument('<model>', 'checkpoint file')
    .requiredOption('--dataset <name>', `dataset: ${datasetNames.join(', ')}, or a folder of images (its test/ split, or its held-out part)`);
  addDataOptions(command)
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .option('--batch-size <n>', 'images per evaluation batch', positiveInt('--batch-size'), recipe.evalBatchSize)
    .option('--tta', 'test-time augmentation: the logits averaged with those of mirrored images (and, for the fast recipe\'s network, shifted ones), each only when the model was trained with it')
    .option('--json', 'print one JSON line')
    .action(async (path: string, o: DataFlags & { dataset: string; backend: string; batchSize: number; tta?: boolean; json?: boolean }) => {
      const backend = await createBackend(o.backend);
      try {
        const { model, meta } = loadCheckpoint(path, backend);
        try {
          const { info, test } = await testSetForModel(o.dataset, meta, path, dataLoadOptions(o));
          const uploader = new BatchUploader(backend, info);
          const metrics = new DeviceMetrics(backend);
          try {
            const r = await evaluate(model, test, info, { batchSize: o.batchSize, tta: ttaFor(meta.architecture, o.tta === true, trainedViews(meta.config)) }, uploader, metrics);
            if (o.json) process.stdout.write(`${JSON.stringify({ model: path, dataset: info.name, test_accuracy: r.accuracy, test_loss: r.loss, images: r.count })}\n`);
            else process.stdout.write(`${info.name}: test accuracy ${(100 * r.accuracy).toFixed(2)}%, loss ${r.loss.toFixed(4)} over ${r.count} images\n`);
          } finally {
            metrics.dispose();
            uploader.dispose();
          }
        } finally {
          model.dispose();
        }
      } finally {
        backend.dispose();
      }
    });
}
