/**
 * @file `kilosecond explain MODEL --dataset D --out DIR`: Grad-CAM heatmaps of chosen test
 * images as a PNG grid (DIR/gradcam.png), optionally beside a second model's (`--compare`), and
 * the maps themselves as safetensors (`--save-cams`).
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { createBackend } from '../backends/index.js';
import { UserError } from '../core/errors.js';
import { datasetInfo, type DatasetInfo } from '../data/datasets.js';
import { loadDataset } from '../data/load-dataset.js';
import { isBuiltinDataset } from '../data/open.js';
import { defaultExplainImages } from '../explain/select.js';
import { testSetForModel } from '../predict/model-data.js';
import { inferenceBatchSize } from '../predict/predict.js';
import { recipe } from '../train/settings.js';
import { readCheckpointMeta } from '../train/checkpoint.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeSafetensors } from '../io/safetensors-file.js';
import { addDataOptions, dataLoadOptions, type DataFlags } from './data-options.js';
import { positiveInt } from './options.js';

interface ExplainOptions extends DataFlags {
  dataset: string;
  images: number;
  class?: string;
  target?: string;
  compare?: string;
  names?: string;
  backend: string;
  seed: number;
  batchSize: number;
  out: string;
  saveCams?: string;
}

/** A class given by number or by name ('7', 'Sneaker'), checked against the dataset. */
function classIndex(option: string, text: string, info: DatasetInfo): number {
  const byName = info.classes.findIndex((name) => name.toLowerCase() === text.toLowerCase());
  if (byName >= 0) return byName;
  const n = Number(text);
  if (Number.isInteger(n) && n >= 0 && n < info.classes.length) return n;
  throw new UserError(`${option} ${text}: out of range; ${info.name} has classes 0..${info.classes.length - 1} (${info.classes.join(', ')})`);
}

/** --names, or the files' names (their paths where the names coincide, e.g. two model.safetensors). */
function columnNames(o: ExplainOptions, paths: string[]): string[] {
  if (o.names === undefined) {
    const names = paths.map((p) => basename(p));
    return new Set(names).size === names.length ? names : paths;
  }
  const names = o.names.split(',').map((s) => s.trim());
  if (names.length !== paths.length || names.some((s) => s === '')) {
    throw new UserError(`--names '${o.names}': give ${paths.length} comma-separated name(s), one per model (${paths.join(', ')})`);
  }
  return names;
}

function seedValue(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new InvalidArgumentError(`--seed takes a whole number from 0 to 2^32-1, not '${text}'.`);
  return n;
}

async function explain(modelPath: string, o: ExplainOptions, command: Command): Promise<void> {
  // Commander's output hook: process.stdout unless a caller (a test) configured another.
  const print = (text: string) => command.configureOutput().writeOut!(text);
  // A folder of images is read as the (first) model was trained: its size, channels and normalisation.
  const { info, test } = isBuiltinDataset(o.dataset)
    ? { info: datasetInfo(o.dataset), test: (await loadDataset(o.dataset, { split: 'test', ...dataLoadOptions(o) })).test! }
    : await testSetForModel(o.dataset, readCheckpointMeta(modelPath), modelPath, dataLoadOptions(o));
  const onlyClass = o.class === undefined ? undefined : classIndex('--class', o.class, info);
  const target = o.target === undefined ? undefined : classIndex('--target', o.target, info);
  const paths = o.compare === undefined ? [modelPath] : [modelPath, o.compare];
  const names = columnNames(o, paths);
  // Loaded here, not at start-up: drawing the figure pulls in the canvas library.
  const { explainCheckpoints, explanationTensors } = await import('../explain/explain.js');
  const backend = await createBackend(o.backend);
  try {
    const e = await explainCheckpoints({
      checkpoints: paths.map((path, k) => ({ path, name: names[k]! })),
      backend, info, test, images: o.images, seed: o.seed, batchSize: o.batchSize,
      ...(onlyClass === undefined ? {} : { onlyClass }),
      ...(target === undefined ? {} : { target }),
    });
    await mkdir(o.out, { recursive: true });
    const figurePath = join(o.out, 'gradcam.png');
    await writeFileAtomic(figurePath, e.figure);
    const scores = e.models.map((m) => `${m.name}: ${m.predictions.filter((p, i) => p === e.labels[i]).length}/${e.indices.length} correct`);
    print(`wrote ${figurePath}: ${e.indices.length} ${info.name} test images; ${scores.join(', ')}\n`);
    if (o.saveCams !== undefined) {
      writeSafetensors(o.saveCams, explanationTensors(e), { format: 'kilosecond-gradcam', dataset: info.name, models: JSON.stringify(paths), names: JSON.stringify(names) });
      print(`wrote ${o.saveCams}: cams [${e.indices.length}, ${e.height}, ${e.width}] per model\n`);
    }
  } finally {
    backend.dispose();
  }
}

export function register(program: Command): void {
  const command = program
    .command('explain')
    .description('Grad-CAM heatmaps of test images (where the model looks), as a PNG grid; --compare puts two models side by side')
    .argument('<model>', 'checkpoint (model.safetensors) written by `kilosecond train`')
    .requiredOption('--dataset <name>', 'mnist, fashion-mnist, cifar10 or a folder of images: the dataset the model was trained on')
    .requiredOption('--out <dir>', 'folder for gradcam.png');
  addDataOptions(command)
    .option('--images <n>', 'how many test images (chosen by class in turn, seeded)', positiveInt('--images'), defaultExplainImages)
    .option('--class <c>', 'only test images of this class (number or name)')
    .option('--target <c>', 'explain this class (number or name) instead of each prediction')
    .option('--compare <model2>', 'a second checkpoint, shown beside the first (e.g. trained without augmentation)')
    .option('--names <a,b>', "column titles, e.g. 'with augmentation,without augmentation' (default: the file names)")
    .option('--backend <name>', 'cpu, webgpu or reference', recipe.backend)
    .option('--seed <s>', 'picks the images', seedValue, 0)
    .option('--batch-size <n>', 'images per Grad-CAM pass', positiveInt('--batch-size'), inferenceBatchSize)
    .option('--save-cams <file>', 'also write indices, targets and cams [N, H, W] as safetensors')
    .action(explain);
}
