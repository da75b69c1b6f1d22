/**
 * @file `kilosecond predict MODEL PATH…`: the top classes of each image, as the model sees them
 * (the checkpoint's own preprocessing), one line per image or JSON lines.
 */
import type { Command } from 'commander';
import { createBackend } from '../backends/index.js';
import { imageFilesIn, inferenceBatchSize, predictFiles } from '../predict/predict.js';
import { recipe } from '../train/settings.js';
import { positiveInt } from './options.js';

export function register(program: Command): void {
  program
    .command('predict')
    .description('classify image files (or every image in folders) with a checkpoint written by `kilosecond train`')
    .argument('<model>', 'checkpoint (model.safetensors of a run folder)')
    .argument('<paths...>', 'image files or folders of images')
    .option('--top-k <k>', 'classes shown per image', positiveInt('--top-k'), 3)
    .option('--json', 'one JSON line per image: {"file", "top": [{"class", "probability"}], "logits"}')
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .option('--batch-size <n>', 'images per forward pass', positiveInt('--batch-size'), inferenceBatchSize)
    .action(async (model: string, paths: string[], o: { topK: number; json?: boolean; backend: string; batchSize: number }) => {
      const files = imageFilesIn(paths);
      const backend = await createBackend(o.backend);
      try {
        for (const p of await predictFiles(model, files, backend, { topK: o.topK, batchSize: o.batchSize })) {
          process.stdout.write(o.json
            ? `${JSON.stringify(p)}\n`
            : `${p.file}: ${p.top.map((t) => `${t.class} ${(100 * t.probability).toFixed(1)}%`).join(', ')}\n`);
        }
      } finally {
        backend.dispose();
      }
    });
}
