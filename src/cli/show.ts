/**
 * @file `kilosecond show <dataset> --out FILE.png`: random training images, each beside
 * several augmented versions, captioned with class names; a look at what the network sees.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { addDataOptions, dataLoadOptions, type DataFlags } from './data-options.js';

interface ShowOptions extends DataFlags {
  out: string;
  split: 'train' | 'test';
  images: number;
  augmentations: number;
  seed: number;
}

function integerIn(min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

function split(text: string): 'train' | 'test' {
  if (text !== 'train' && text !== 'test') throw new InvalidArgumentError('expected train or test');
  return text;
}

export function register(program: Command): void {
  const command = program
    .command('show')
    .description('draw random training images beside augmented versions of them, to a PNG file')
    .argument('<dataset>', 'mnist, fashion-mnist, cifar10, or a folder of images')
    .requiredOption('--out <file>', 'the PNG file to write');
  addDataOptions(command)
    .option('--split <split>', 'which images to draw from: train or test', split, 'train')
    .option('--images <n>', 'how many images (rows)', integerIn(1, 64), 4)
    .option('--augmentations <k>', 'augmented versions beside each image', integerIn(0, 16), 5)
    .option('--seed <s>', 'picks the images and the augmentations', integerIn(0, 2 ** 32 - 1), 0)
    .action(async (dataset: string, o: ShowOptions) => {
      // Loaded here, not at start-up: drawing pulls in the canvas library.
      const { openDataset } = await import('../data/open.js');
      const { augmentationSampleGrid } = await import('../report/augmentation-samples.js');
      const { writeImageGrid } = await import('../report/image-grid.js');
      const loaded = await openDataset(dataset, { split: o.split, ...dataLoadOptions(o) });
      const info = loaded.info;
      const set = loaded[o.split]!;
      const grid = augmentationSampleGrid(info, set, { images: o.images, augmentations: o.augmentations, seed: o.seed });
      await writeImageGrid(o.out, grid);
      process.stdout.write(`wrote ${o.out}: ${grid.rows.length} ${o.split} images of ${info.name}, ${o.augmentations} augmentations each\n`);
    });
}
