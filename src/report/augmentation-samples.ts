/**
 * @file "What does the network actually see?": random training images, each beside several
 * augmented versions of itself, captioned with class names. `kilosecond show` writes it; the
 * run report embeds it.
 */
import { augmentImage, defaultAugment, meanPixel, validateAugment, type AugmentConfig } from '../data/augment.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { epochPermutation } from '../data/prng.js';
import type { GridCell, ImageGrid, PixelImage } from './image-grid.js';

export interface SampleOptions {
  /** How many images (rows). */
  images: number;
  /** How many augmented versions beside each. */
  augmentations: number;
  seed: number;
  augment?: AugmentConfig;
}

function channelsOf(set: ImageSet): 1 | 3 {
  if (set.channels !== 1 && set.channels !== 3) throw new Error(`cannot draw ${set.channels}-channel images`);
  return set.channels;
}

/**
 * Rows of [original, augmented 1..K]. Version k is what epoch k - 1 of training with this seed
 * would show for that image, since augmentation is a pure function of (seed, epoch, index).
 */
export function augmentationSampleGrid(info: DatasetInfo, set: ImageSet, options: SampleOptions): ImageGrid {
  const { height, width } = set;
  const channels = channelsOf(set);
  const augment = validateAugment(options.augment ?? { ...defaultAugment }, height, width);
  const imageBytes = height * width * channels;
  const fill = meanPixel(info.mean);
  const picked = epochPermutation(set.count, options.seed, 0).subarray(0, Math.min(options.images, set.count));
  const rows = Array.from(picked, (index): GridCell[] => {
    const caption = info.classes[set.labels[index]!] ?? `class ${set.labels[index]}`;
    const original: PixelImage = { height, width, channels, data: set.images.slice(index * imageBytes, (index + 1) * imageBytes) };
    const augmented = Array.from({ length: options.augmentations }, (_, epoch): GridCell => {
      const data = new Uint8Array(imageBytes);
      augmentImage(augment, options.seed, epoch, index, set.images, height, width, channels, data, 0, fill);
      return { image: { height, width, channels, data }, caption };
    });
    return [{ image: original, caption }, ...augmented];
  });
  return {
    title: `${info.name}: random images and their augmentations (seed ${options.seed})`,
    columnTitles: ['original', ...Array.from({ length: options.augmentations }, (_, k) => `augmented ${k + 1}`)],
    rows,
  };
}
