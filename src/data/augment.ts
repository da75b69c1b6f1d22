/**
 * @file DavidNet's augmentation on uint8 HWC images, in Page's order: pad (reflect) and random
 * crop back to the original size, horizontal flip with p = 0.5, cutout of a random square.
 * Normalisation is not here: it happens once, when a batch is assembled (normalise.ts).
 *
 * Crop and flip are both a remapping of coordinates, so they are fused into one copy: for every
 * output row and column we compute its source row and column (reflected at the border, then
 * mirrored), and never build the padded image.
 */
import { msg, setting, UserError } from '../core/errors.js';
import { rngFor, Stream } from './prng.js';

export type PadMode = 'reflect' | 'zero';

export interface AugmentConfig {
  /** Random crop of the original size out of the image padded by `pad` on each side. */
  crop: boolean;
  /** Padding on each side for the crop. */
  pad: number;
  /**
   * What the padding holds: 'reflect' mirrors the image (numpy's `np.pad(..., 'reflect')`, Page's
   * choice for CIFAR-10's natural images); 'zero' is black, the background of MNIST and
   * Fashion-MNIST, where mirrored garment edges would make images the test set never shows.
   */
  padMode: PadMode;
  /** Horizontal flip with probability 0.5. */
  flip: boolean;
  /**
   * With `flip`: instead of a fresh coin every epoch, each image is mirrored in every other epoch,
   * starting from a coin of its own (airbench's alternating flip), so that over any two epochs
   * the network sees every image both ways.
   */
  alternateFlip?: boolean;
  /** Side of the cutout square in pixels; 0 turns cutout off. */
  cutout: number;
  /** How many cutout squares per image. */
  cutoutCount: number;
}

/** A configuration whose pad mode, padding and cutout side may be left to the dataset. */
export type AugmentSettings = Omit<AugmentConfig, 'padMode' | 'pad' | 'cutout' | 'flip'> & Partial<Pick<AugmentConfig, 'padMode' | 'pad' | 'cutout' | 'flip'>>;

/**
 * What a dataset brings to its augmentation: its pad mode, the recipe's padding and cutout for
 * its image size, and whether a mirror image is still an image of its class.
 */
export interface DatasetAugmentDefaults { padMode: PadMode; augmentSides: { pad: number; cutout: number }; flip: boolean }

/** The settings with what was left open filled in from the dataset's defaults. */
export function augmentFor(settings: AugmentSettings, dataset: DatasetAugmentDefaults): AugmentConfig {
  return {
    ...settings,
    padMode: settings.padMode ?? dataset.padMode,
    flip: settings.flip ?? dataset.flip,
    pad: settings.pad ?? dataset.augmentSides.pad,
    cutout: settings.cutout ?? dataset.augmentSides.cutout,
  };
}

/** Page's padding (4) and cutout (8) for 32x32, as shares of the side: what an image folder of another size gets. */
export function recipeSidesFor(side: number): { pad: number; cutout: number } {
  return { pad: Math.round(side / 8), cutout: Math.round(side / 4) };
}

export const defaultAugment: Readonly<AugmentConfig> = Object.freeze({ crop: true, pad: 4, padMode: 'reflect', flip: true, cutout: 8, cutoutCount: 1 });

/** No augmentation at all: what test-time batches and `augment: 'none'` use. */
export const noAugment: Readonly<AugmentConfig> = Object.freeze({ crop: false, pad: 0, padMode: 'reflect', flip: false, cutout: 0, cutoutCount: 0 });

/** Checks a configuration against an image size; messages name the AugmentConfig field at fault. */
export function validateAugment(cfg: AugmentConfig, height: number, width: number): AugmentConfig {
  const intIn = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!intIn(cfg.pad, 0, Math.min(height, width) - 1)) {
    throw new UserError(msg`${setting('pad')} ${cfg.pad}: the padding must be an integer from 0 to ${Math.min(height, width) - 1} for ${height}x${width} images`);
  }
  if (cfg.padMode !== 'reflect' && cfg.padMode !== 'zero') {
    throw new UserError(msg`${setting('padMode')} ${String(cfg.padMode)}: choose reflect or zero`);
  }
  if (!intIn(cfg.cutout, 0, Math.min(height, width))) {
    throw new UserError(msg`${setting('cutout')} ${cfg.cutout}: the cutout side must be an integer from 0 (off) to ${Math.min(height, width)} for ${height}x${width} images`);
  }
  if (!intIn(cfg.cutoutCount, 0, 64)) {
    throw new UserError(msg`${setting('cutoutCount')} ${cfg.cutoutCount}: must be an integer from 0 to 64`);
  }
  return cfg;
}

/**
 * The source index of padded position i in 0..n-1 terms: numpy's 'reflect' (the edge pixel is not
 * repeated: -1 maps to 1, n maps to n - 2), or -1 (a zero pixel) outside the image in 'zero' mode.
 */
export function sourceIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'zero') return -1;
  return i < 0 ? -i : 2 * (n - 1) - i;
}

/** Where one augmentation draw puts things; exposed so tests can check the bytes against it. */
export interface AugmentDraw {
  /** Crop offset in the padded image, each in [0, 2 * pad]. */
  cropY: number;
  cropX: number;
  flipped: boolean;
  /** Top-left corners of the cutout squares, each square fully inside the image (as Page's Cutout). */
  cutouts: Array<{ y: number; x: number }>;
}

/** Whether image `index` is mirrored in the first epoch of an alternating flip. */
function firstFlip(seed: number, index: number): boolean {
  return rngFor(seed, 0, index, Stream.Flip).nextUint32() >= 0x80000000;
}

/** The random choices for image `index` of epoch `epoch`: a pure function of its arguments. */
export function drawAugment(cfg: AugmentConfig, height: number, width: number, seed: number, epoch: number, index: number): AugmentDraw {
  const rng = rngFor(seed, epoch, index, Stream.Augment);
  const span = 2 * cfg.pad + 1;
  const cropY = cfg.crop ? rng.nextInt(span) : cfg.pad;
  const cropX = cfg.crop ? rng.nextInt(span) : cfg.pad;
  const coin = cfg.flip ? rng.nextUint32() >= 0x80000000 : false;
  const flipped = cfg.flip && cfg.alternateFlip ? firstFlip(seed, index) !== (epoch % 2 === 1) : coin;
  const cutouts: Array<{ y: number; x: number }> = [];
  if (cfg.cutout > 0) {
    for (let k = 0; k < cfg.cutoutCount; k++) {
      cutouts.push({ y: rng.nextInt(height + 1 - cfg.cutout), x: rng.nextInt(width + 1 - cfg.cutout) });
    }
  }
  return { cropY, cropX, flipped, cutouts };
}

/**
 * Writes the augmented image into dst. `fill` is the cutout colour per channel: the dataset's
 * mean pixel, so that after normalisation the square is about 0, as in Page's code where cutout
 * zeroes normalised data.
 */
export function applyAugment(
  draw: AugmentDraw, cfg: AugmentConfig,
  src: Uint8Array, srcOffset: number, height: number, width: number, channels: number,
  dst: Uint8Array, dstOffset: number, fill: ArrayLike<number>,
): void {
  const shiftY = draw.cropY - cfg.pad;
  const shiftX = draw.cropX - cfg.pad;
  const rowBytes = width * channels;
  const sourceColumn = new Int32Array(width);
  let zeroColumns = false;
  for (let x = 0; x < width; x++) {
    const cropped = sourceIndex(x + shiftX, width, cfg.padMode);
    zeroColumns ||= cropped < 0;
    sourceColumn[x] = cropped < 0 ? -1 : (draw.flipped ? width - 1 - cropped : cropped) * channels;
  }
  for (let y = 0; y < height; y++) {
    const sourceRow = sourceIndex(y + shiftY, height, cfg.padMode);
    const dstRow = dstOffset + y * rowBytes;
    if (sourceRow < 0) {
      dst.fill(0, dstRow, dstRow + rowBytes);
      continue;
    }
    const srcRow = srcOffset + sourceRow * rowBytes;
    if (zeroColumns) {
      for (let x = 0; x < width; x++) {
        const s = sourceColumn[x]!;
        for (let c = 0; c < channels; c++) dst[dstRow + x * channels + c] = s < 0 ? 0 : src[srcRow + s + c]!;
      }
      continue;
    }
    if (shiftX === 0 && !draw.flipped) {
      dst.set(src.subarray(srcRow, srcRow + rowBytes), dstRow);
      continue;
    }
    if (channels === 1) {
      for (let x = 0; x < width; x++) dst[dstRow + x] = src[srcRow + sourceColumn[x]!]!;
    } else if (channels === 3) {
      for (let x = 0, d = dstRow; x < width; x++, d += 3) {
        const s = srcRow + sourceColumn[x]!;
        dst[d] = src[s]!;
        dst[d + 1] = src[s + 1]!;
        dst[d + 2] = src[s + 2]!;
      }
    } else {
      for (let x = 0; x < width; x++) {
        const s = srcRow + sourceColumn[x]!;
        const d = dstRow + x * channels;
        for (let c = 0; c < channels; c++) dst[d + c] = src[s + c]!;
      }
    }
  }
  for (const { y: y0, x: x0 } of draw.cutouts) {
    for (let y = y0; y < y0 + cfg.cutout; y++) {
      const row = dstOffset + y * rowBytes;
      for (let x = x0; x < x0 + cfg.cutout; x++) {
        for (let c = 0; c < channels; c++) dst[row + x * channels + c] = fill[c]!;
      }
    }
  }
}

/** Augments image `index` of a set (draw + apply); the one call the loader and precompute make. */
export function augmentImage(
  cfg: AugmentConfig, seed: number, epoch: number, index: number,
  src: Uint8Array, height: number, width: number, channels: number,
  dst: Uint8Array, dstOffset: number, fill: ArrayLike<number>,
): void {
  const draw = drawAugment(cfg, height, width, seed, epoch, index);
  applyAugment(draw, cfg, src, index * height * width * channels, height, width, channels, dst, dstOffset, fill);
}

/** The uint8 cutout colour for a dataset: its mean pixel, rounded. */
export function meanPixel(mean: readonly number[]): Uint8Array {
  return Uint8Array.from(mean, (m) => Math.round(m * 255));
}
