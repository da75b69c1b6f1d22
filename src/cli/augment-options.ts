/**
 * @file The augmentation options, one definition for every command that augments (`train`,
 * `bench`, `precompute`), so the flags and their defaults read the same everywhere.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultAugment, type AugmentSettings, type PadMode } from '../data/augment.js';

export interface AugmentFlags {
  crop: boolean;
  pad?: number;
  padMode?: PadMode;
  flip?: boolean;
  cutout?: number;
  cutoutCount?: number;
}

export function wholeNumber(option: string, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`${option} takes a whole number from 0 to ${max}, not '${value}'.`);
    return n;
  };
}

export function addAugmentOptions(command: Command): Command {
  return command
    .option('--no-crop', 'no pad-and-random-crop')
    .option('--pad <n>', `padding on each side before the random crop (default ${defaultAugment.pad}, --recipe fast: 2; image folders: 1/8 of the side)`, wholeNumber('--pad', 64))
    .addOption(new Option('--pad-mode <mode>', 'what the padding holds: reflect (mirror the image) or zero (black); default: the dataset\'s (zero for MNIST and Fashion-MNIST, reflect for CIFAR-10)').choices(['reflect', 'zero']))
    .option('--flip', 'random horizontal flip (the default, except for MNIST: a mirrored digit is not one)')
    .option('--no-flip', 'no random horizontal flip')
    .option('--cutout <n>', `side of the cutout square in pixels, 0 = no cutout (default ${defaultAugment.cutout}; image folders: 1/4 of the side)`, wholeNumber('--cutout', 512))
    .option('--cutout-count <n>', `cutout squares per image (default ${defaultAugment.cutoutCount})`, wholeNumber('--cutout-count', 64));
}

/**
 * The augmentation the flags ask for; the pad mode, padding, cutout and flip stay open unless
 * given (augmentFor fills them), and so does the cutout count (the recipe's).
 */
export function augmentFromFlags(f: AugmentFlags): Omit<AugmentSettings, 'cutoutCount'> & { cutoutCount?: number } {
  return {
    crop: f.crop,
    ...(!f.crop ? { pad: 0 } : f.pad === undefined ? {} : { pad: f.pad }),
    ...(f.padMode === undefined ? {} : { padMode: f.padMode }),
    ...(f.flip === undefined ? {} : { flip: f.flip }),
    ...(f.cutout === undefined ? {} : { cutout: f.cutout }),
    ...(f.cutout === 0 ? { cutoutCount: 0 } : f.cutoutCount === undefined ? {} : { cutoutCount: f.cutoutCount }),
  };
}
