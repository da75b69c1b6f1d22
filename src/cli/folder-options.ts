/**
 * @file How `train` reads a folder of images: its split, the input size and channels, and what
 * to do with files that cannot be decoded. The built-in datasets ignore these.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultResize } from '../data/folder/decode.js';
import { defaultSide, largestOwnSide } from '../data/folder/load.js';
import { defaultTestSplit } from '../data/folder/split.js';
import type { TrainConfig } from '../train/settings.js';
import { positiveInt } from './options.js';

export interface FolderFlags {
  imageSize?: number;
  channels?: '1' | '3';
  resize: 'crop' | 'stretch';
  testSplit: number;
  skipBadImages?: boolean;
}

function fraction(option: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`${option} takes a fraction above 0 and below 1, not '${v}'.`);
    return n;
  };
}

export function addFolderOptions(command: Command): Command {
  return command
    .option('--image-size <n>', `image folders: the input side in pixels (default: the images' own size when they all share one of at most ${largestOwnSide}, else ${defaultSide})`, positiveInt('--image-size'))
    .addOption(new Option('--channels <n>', 'image folders: 1 (greyscale) or 3 (RGB); default 1 when every image is greyscale').choices(['1', '3']))
    .addOption(new Option('--resize <mode>', 'image folders: crop (shorter side to the size, then the centre square) or stretch (the whole image)').choices(['crop', 'stretch']).default(defaultResize))
    .option('--test-split <f>', 'image folders without a test/ (or val/) split: the fraction of each class held out', fraction('--test-split'), defaultTestSplit)
    .option('--skip-bad-images', 'image folders: leave out files that cannot be decoded (listed in summary.json) instead of stopping');
}

export function folderFromFlags(flags: FolderFlags): NonNullable<TrainConfig['folder']> {
  return {
    ...(flags.imageSize === undefined ? {} : { imageSize: flags.imageSize }),
    ...(flags.channels === undefined ? {} : { channels: Number(flags.channels) as 1 | 3 }),
    resize: flags.resize,
    testSplit: flags.testSplit,
    skipBadImages: flags.skipBadImages === true,
  };
}
