/**
 * @file The three datasets: their facts (classes, shapes, normalisation constants) and loading
 * them into memory as uint8 HWC images. See sources.ts for where files are found.
 */
import type { PadMode } from './augment.js';
import { msg, setting, UserError } from '../core/errors.js';
import { readCifar } from './cifar.js';
import type { ProgressCallback } from './download.js';
import { parseIdxImages, parseIdxLabels } from './idx.js';
import { filesFor, locateFiles, readIdxFile, type IdxSource, type LocateOptions, type SourceFile, type Split } from './sources.js';

export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar10';

export interface DatasetInfo {
  /** A built-in dataset's name, or an image folder's base name. */
  name: string;
  classes: string[];
  height: number;
  width: number;
  channels: number;
  /** Per channel, on the 0..1 scale. */
  mean: number[];
  std: number[];
  /** How augmentation pads before cropping: black for the digit and garment scans, mirrored for photos. */
  padMode: PadMode;
  /** The recipe's padding and cutout side for these images (Page's 4 and 8 for the built-in datasets). */
  augmentSides: { pad: number; cutout: number };
  /**
   * Whether training flips images left-right by default: a mirrored garment or photo is still
   * of its class, a mirrored 2, 3, 5 or 7 is not a digit (MNIST: 99.42% with the flip, 99.75%
   * without; BENCHMARKS.md). `--flip` or `--no-flip` overrides it.
   */
  flip: boolean;
  trainCount: number;
  testCount: number;
}

/** Images in memory: count * height * width * channels bytes, HWC. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface LoadOptions {
  /** When given, the only folder searched (and where downloads go). */
  dataDir?: string;
  /** Check md5 checksums (default true). */
  verify?: boolean;
  /** Download missing files from the official mirrors (default true). */
  download?: boolean;
  onProgress?: ProgressCallback;
  split?: 'train' | 'test' | 'both';
  /** Replaces ~/.cache/kilosecond (tests). */
  cacheDir?: string;
  /** Replaces the official mirror list (tests). */
  mirrors?: string[];
}

/** Page's CIFAR-10 padding and cutout, kept for the 28x28 datasets as the article ran them. */
const pageSides = { pad: 4, cutout: 8 };

const digits = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const infos: Record<DatasetName, DatasetInfo> = {
  mnist: { name: 'mnist', classes: digits, height: 28, width: 28, channels: 1, mean: [0.1307], std: [0.3081], padMode: 'zero', augmentSides: pageSides, flip: false, trainCount: 60000, testCount: 10000 },
  'fashion-mnist': {
    name: 'fashion-mnist',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    height: 28, width: 28, channels: 1, mean: [0.286], std: [0.353], padMode: 'zero', augmentSides: pageSides, flip: true, trainCount: 60000, testCount: 10000,
  },
  cifar10: {
    name: 'cifar10',
    classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    height: 32, width: 32, channels: 3, mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616], padMode: 'reflect', augmentSides: pageSides, flip: true, trainCount: 50000, testCount: 10000,
  },
};

export const datasetNames = Object.keys(infos) as DatasetName[];

export function datasetInfo(name: string): DatasetInfo {
  const info = infos[name as DatasetName];
  if (!info) throw new UserError(`unknown dataset '${name}'; choose one of: ${datasetNames.join(', ')}`);
  return structuredClone(info);
}

function splitsOf(split: LoadOptions['split']): Split[] {
  if (split === undefined || split === 'both') return ['train', 'test'];
  if (split !== 'train' && split !== 'test') throw new UserError(msg`${setting('split')} '${String(split)}': choose train, test or both`);
  return [split];
}

function checkCount(info: DatasetInfo, set: ImageSet, split: Split, file: string): ImageSet {
  const expected = split === 'train' ? info.trainCount : info.testCount;
  if (set.count !== expected) {
    throw new UserError(msg`${file}: ${set.count} ${split} images, ${info.name} has ${expected}; is this the right file? (pass ${setting('verify', false)} to use it anyway)`);
  }
  return set;
}

async function loadIdxSplit(info: DatasetInfo, files: Map<SourceFile, string>, split: Split, verify: boolean, sources: Record<string, string>): Promise<ImageSet> {
  const [imagesFile, labelsFile] = [...files.keys()].filter((f) => f.split === split) as [IdxSource, IdxSource];
  const imagesRead = await readIdxFile(files.get(imagesFile)!, imagesFile, verify);
  const labelsRead = await readIdxFile(files.get(labelsFile)!, labelsFile, verify);
  // Keyed by the published name, so a decompressed copy records the same source as the original.
  sources[imagesFile.name] = imagesRead.md5;
  sources[labelsFile.name] = labelsRead.md5;
  const images = parseIdxImages(imagesRead.path, imagesRead.content);
  const labels = parseIdxLabels(labelsRead.path, labelsRead.content, info.classes.length);
  if (images.rows !== info.height || images.cols !== info.width) {
    throw new UserError(`${imagesRead.path}: images are ${images.rows}x${images.cols}, ${info.name} has ${info.height}x${info.width}`);
  }
  if (labels.length !== images.count) {
    throw new UserError(`${labelsRead.path}: ${labels.length} labels for ${images.count} images in ${imagesRead.path}; the two files do not belong together`);
  }
  const set = { images: images.pixels, labels, count: images.count, height: info.height, width: info.width, channels: 1 };
  return verify ? checkCount(info, set, split, imagesRead.path) : set;
}

/**
 * Loads a dataset's train and/or test images, finding or downloading the files. `sources` maps
 * each file read to its md5 (of the decompressed content for IDX), for manifests and reports.
 */
export async function loadDataset(dataset: string, opts: LoadOptions = {}): Promise<{ info: DatasetInfo; train?: ImageSet; test?: ImageSet; sources: Record<string, string> }> {
  const info = datasetInfo(dataset);
  const name = info.name as DatasetName;
  const splits = splitsOf(opts.split);
  const verify = opts.verify !== false;
  const locate: LocateOptions = { ...opts, verify };
  const files = await locateFiles(name, filesFor(name, splits), locate);
  const sources: Record<string, string> = {};
  const result: { info: DatasetInfo; train?: ImageSet; test?: ImageSet; sources: Record<string, string> } = { info, sources };
  const [first, path] = [...files.entries()][0]!;
  if (first.kind === 'archive') {
    const parts = await readCifar(path, first, { train: splits.includes('train'), test: splits.includes('test') }, verify, sources);
    const asSet = (p: { images: Uint8Array; labels: Uint8Array; count: number }): ImageSet => ({ ...p, height: 32, width: 32, channels: 3 });
    if (parts.train) result.train = checkCount(info, asSet(parts.train), 'train', path);
    if (parts.test) result.test = checkCount(info, asSet(parts.test), 'test', path);
    return result;
  }
  for (const split of splits) result[split] = await loadIdxSplit(info, files, split, verify, sources);
  return result;
}
