/**
 * @file The three datasets' facts (classes, shapes, normalisation constants) and the shapes of
 * images in memory, uint8 HWC. No files: load-dataset.ts loads them, in Node.
 */
import type { PadMode } from './augment.js';
import { UserError } from '../core/errors.js';

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
