/**
 * @file Grad-CAM (Selvaraju et al. 2017): where the model looks when it picks a class.
 *
 * For target class t and feature maps A (the network's `features`: ResNet-9's layer3 after its
 * residual add, the airbench network's group3):
 *   weights  w_c = mean over positions of d logit_t / d A_c
 *   cam          = ReLU(sum_c w_c A_c)                          [n, h, w], raw
 *   upsampled    = bilinear resize to the input size (align_corners = false), then per image
 *                  (x - min) / (max' + 1e-7) with max' the maximum after subtracting min.
 * Exactly the definition the PyTorch fixtures use (shared/fixtures/README.md).
 */
import { Graph } from '../core/graph.js';
import type { Tensor } from '../core/tensor.js';
import { UserError } from '../core/errors.js';
import type { Network } from '../nn/network.js';

export interface GradCamResult {
  /** The class each map explains. */
  targets: number[];
  /** Predicted class (argmax of the logits) per image. */
  predictions: number[];
  /** Raw maps [n, h, w] at the feature resolution. */
  cams: Float32Array;
  camHeight: number;
  camWidth: number;
  /** Maps resized to the input and normalised to 0..1, [n, H, W]. */
  upsampled: Float32Array;
}

/**
 * Grad-CAM of the eval-mode model for a batch of normalised NHWC images. `targets` defaults to
 * each image's predicted class.
 */
export async function gradCam(model: Network, images: Tensor, targets?: number[]): Promise<GradCamResult> {
  const [n, H, W] = images.shape;
  const classes = model.config.classes;
  if (targets && targets.length !== n) throw new UserError(`Grad-CAM: ${targets.length} targets for ${n} images`);
  for (const t of targets ?? []) {
    if (!Number.isInteger(t) || t < 0 || t >= classes) throw new UserError(`Grad-CAM: class ${t} is out of range 0..${classes - 1}`);
  }
  const g = new Graph(model.backend);
  try {
    const features = g.keep(model.features(g, images, { training: false }));
    try {
      const logits = model.head(g, features);
      const logitValues = await logits.read();
      const predictions = Array.from({ length: n }, (_, i) => argmax(logitValues, i * classes, classes));
      const chosen = targets ?? predictions;
      // Seeding the backward pass with a one-hot row picks d logit_target / d A.
      const seed = g.full(logits.shape, 0);
      const oneHot = new Float32Array(n * classes);
      chosen.forEach((t, i) => (oneHot[i * classes + t] = 1));
      seed.write(oneHot);
      const grad = g.backward(logits, [features], seed).get(features);
      if (!grad) throw new Error('Grad-CAM: no gradient reached the feature maps');
      const [, h, w, c] = features.shape;
      const cams = weightedMaps(await features.read(), await grad.read(), n, h * w, c);
      return {
        targets: chosen,
        predictions,
        cams,
        camHeight: h,
        camWidth: w,
        upsampled: normalisePerImage(resizeBilinear(cams, n, h, w, H, W), n, H * W),
      };
    } finally {
      features.dispose();
    }
  } finally {
    g.dispose();
  }
}

/** ReLU(sum_c mean_p(dA[p, c]) * A[p, c]) per image; A and dA are [n, positions, c]. */
function weightedMaps(a: Float32Array, da: Float32Array, n: number, positions: number, c: number): Float32Array {
  const cams = new Float32Array(n * positions);
  const weights = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    weights.fill(0);
    for (let p = 0; p < positions; p++) for (let ch = 0; ch < c; ch++) weights[ch] += da[(i * positions + p) * c + ch];
    for (let p = 0; p < positions; p++) {
      let sum = 0;
      for (let ch = 0; ch < c; ch++) sum += (weights[ch] / positions) * a[(i * positions + p) * c + ch];
      cams[i * positions + p] = Math.max(0, sum);
    }
  }
  return cams;
}

/** PyTorch's F.interpolate(mode='bilinear', align_corners=False) for [n, h, w] maps. */
function resizeBilinear(src: Float32Array, n: number, h: number, w: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(n * outH * outW);
  // Source coordinate of an output pixel centre; negative coordinates clamp to 0 as in PyTorch.
  const axis = (outSize: number, inSize: number, i: number): [number, number, number] => {
    const x = Math.max(0, (i + 0.5) * (inSize / outSize) - 0.5);
    const i0 = Math.min(Math.floor(x), inSize - 1);
    return [i0, Math.min(i0 + 1, inSize - 1), x - i0];
  };
  for (let img = 0; img < n; img++) {
    const base = img * h * w;
    for (let y = 0; y < outH; y++) {
      const [y0, y1, fy] = axis(outH, h, y);
      for (let x = 0; x < outW; x++) {
        const [x0, x1, fx] = axis(outW, w, x);
        const top = src[base + y0 * w + x0] * (1 - fx) + src[base + y0 * w + x1] * fx;
        const bottom = src[base + y1 * w + x0] * (1 - fx) + src[base + y1 * w + x1] * fx;
        out[(img * outH + y) * outW + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

function normalisePerImage(maps: Float32Array, n: number, size: number): Float32Array {
  for (let i = 0; i < n; i++) {
    const m = maps.subarray(i * size, (i + 1) * size);
    let min = Infinity;
    for (const v of m) min = Math.min(min, v);
    let max = -Infinity;
    for (let p = 0; p < size; p++) max = Math.max(max, (m[p] -= min));
    for (let p = 0; p < size; p++) m[p] /= max + 1e-7;
  }
  return maps;
}

function argmax(v: Float32Array, start: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (v[start + j] > v[start + best]) best = j;
  return best;
}
