/**
 * @file Test-time augmentation: the logits of a test image averaged over transformed copies.
 * `mirror` (the DAWNBench recipe's) averages each image with its mirror image; `mirror-translate`
 * (airbench's) also averages in the mirror pairs of the image shifted one pixel up-left and one
 * down-right (reflect padding), with half the weight: views x, flip(x) at 1/4 each and the four
 * shifted ones at 1/8. `translate` is airbench's without the mirror: x at 1/2, the shifts at 1/4.
 */
import { sourceIndex, type AugmentConfig } from '../data/augment.js';
import type { Architecture } from '../nn/network.js';

export type TestTimeAugmentation = 'none' | 'mirror' | 'translate' | 'mirror-translate';

/** Which transforms training showed the model: test-time augmentation averages in only those. */
export interface TrainedViews {
  mirrored: boolean;
  shifted: boolean;
}

/**
 * What `--tta` means for a network: the augmentation its recipe was published with, less the
 * views the model never saw in training (a digit model trained without the flip takes a mirrored
 * 7 for something else, and averaging it in costs accuracy).
 */
export function ttaFor(architecture: Architecture, enabled: boolean, trained: TrainedViews): TestTimeAugmentation {
  if (!enabled) return 'none';
  const shifts = architecture === 'airbench' && trained.shifted;
  if (trained.mirrored) return shifts ? 'mirror-translate' : 'mirror';
  return shifts ? 'translate' : 'none';
}

/**
 * The views a run's settings trained with (a TrainConfig, or the one a checkpoint recorded).
 * Settings left unrecorded are the recipe's, which mirror and shift.
 */
export function trainedViews(settings: { augment?: unknown; augmentation?: unknown } | undefined): TrainedViews {
  const augmented = settings?.augment !== 'none';
  const a = settings?.augmentation as Partial<AugmentConfig> | undefined;
  return { mirrored: augmented && a?.flip !== false, shifted: augmented && a?.crop !== false && a?.pad !== 0 };
}

/** NHWC images of one batch on the host. */
export interface HostImages {
  data: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

/** One view: a transform of the batch and the weight of its logits in the average. */
export interface View {
  transform: ((images: HostImages) => Float32Array) | undefined;
  weight: number;
}

/** The views of each level; the first is always the batch itself (no transform). */
export function viewsOf(tta: TestTimeAugmentation): View[] {
  switch (tta) {
    case 'none':
      return [{ transform: undefined, weight: 1 }];
    case 'mirror':
      return [{ transform: undefined, weight: 0.5 }, { transform: mirror, weight: 0.5 }];
    case 'translate':
      return [{ transform: undefined, weight: 0.5 }, { transform: up, weight: 0.25 }, { transform: down, weight: 0.25 }];
    case 'mirror-translate':
      return [
        { transform: undefined, weight: 0.25 },
        { transform: mirror, weight: 0.25 },
        { transform: up, weight: 0.125 },
        { transform: (im) => mirror({ ...im, data: up(im) }), weight: 0.125 },
        { transform: down, weight: 0.125 },
        { transform: (im) => mirror({ ...im, data: down(im) }), weight: 0.125 },
      ];
  }
}

const up = (im: HostImages) => shift(im, -1);
const down = (im: HostImages) => shift(im, 1);

/** Mirror NHWC images left-right. */
export function mirror({ data, n, h, w, c }: HostImages): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < n * h; i++) {
    const row = i * w * c;
    for (let x = 0; x < w; x++) {
      const src = row + x * c;
      const dst = row + (w - 1 - x) * c;
      for (let ch = 0; ch < c; ch++) out[dst + ch] = data[src + ch]!;
    }
  }
  return out;
}

/**
 * The images moved by `d` pixels along both axes, the uncovered border reflected: out(y, x) =
 * in(y + d, x + d). `d = -1` is airbench's crop at (0, 0) of the 1-pixel reflect-padded image,
 * `d = 1` its crop at (2, 2).
 */
export function shift({ data, n, h, w, c }: HostImages, d: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      const sy = sourceIndex(y + d, h, 'reflect');
      for (let x = 0; x < w; x++) {
        const sx = sourceIndex(x + d, w, 'reflect');
        const dst = ((i * h + y) * w + x) * c;
        const src = ((i * h + sy) * w + sx) * c;
        for (let ch = 0; ch < c; ch++) out[dst + ch] = data[src + ch]!;
      }
    }
  }
  return out;
}
