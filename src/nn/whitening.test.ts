/**
 * @file The whitening weights whiten: the eigen solver's results are eigenpairs, and the
 * convolution they make turns correlated images into patches of unit, uncorrelated variance.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { convShape } from '../core/ops/conv.js';
import { randomArray } from '../testing/kernel-check.js';
import { patchSecondMoments, symmetricEigen, whiteningWeights, type ImageBatch } from './whitening.js';

it('finds the eigenpairs of a symmetric matrix, largest first and orthonormal', () => {
  const d = 12;
  const r = randomArray(d * d, 3);
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m[i * d + j] = r[i * d + j]! + r[j * d + i]!;
  const { values, vectors } = symmetricEigen(m, d);
  for (let j = 0; j < d; j++) {
    if (j > 0) assert.ok(values[j - 1]! >= values[j]!, 'sorted, largest first');
    for (let i = 0; i < d; i++) {
      let mv = 0;
      for (let k = 0; k < d; k++) mv += m[i * d + k]! * vectors[j * d + k]!;
      assert.ok(Math.abs(mv - values[j]! * vectors[j * d + i]!) < 1e-12, `M v = lambda v for eigenpair ${j}`);
    }
    for (let l = 0; l < d; l++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += vectors[j * d + k]! * vectors[l * d + k]!;
      assert.ok(Math.abs(dot - (j === l ? 1 : 0)) < 1e-12, `v${j} . v${l}`);
    }
  }
});

/** Images whose neighbouring pixels and channels are strongly correlated, like photos. */
function smoothImages(n: number, h: number, w: number, c: number): ImageBatch {
  const noise = randomArray(n * h * w, 7);
  const data = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // A 2x2 box blur of the noise, then each channel a different mix of it and a little of its own.
        const at = (yy: number, xx: number): number => noise[(i * h + Math.min(yy, h - 1)) * w + Math.min(xx, w - 1)]!;
        const blurred = (at(y, x) + at(y + 1, x) + at(y, x + 1) + at(y + 1, x + 1)) / 4;
        for (let ch = 0; ch < c; ch++) {
          data[((i * h + y) * w + x) * c + ch] = (1 + ch) * blurred + 0.1 * noise[(i * h + x % h) * w + (y + ch) % w]!;
        }
      }
    }
  }
  return { data, n, h, w, c };
}

it('makes a 2x2 convolution whose outputs are uncorrelated with unit variance (less eps), and their negations', () => {
  const images = smoothImages(6, 9, 8, 3);
  const k = 2;
  const d = k * k * images.c;
  const eps = 1e-3;
  const weights = whiteningWeights(images, k, eps);
  const { values } = symmetricEigen(patchSecondMoments(images, k), d);
  const backend = createReferenceBackend({ precision: 'float64' });
  const s = convShape({ n: images.n, h: images.h, w: images.w, cin: images.c, cout: 2 * d, k, pad: 0 });
  const [x, w, y] = [backend.alloc(images.data.length), backend.alloc(weights.length), backend.alloc(s.n * s.oh * s.ow * s.cout)];
  backend.write(x, images.data);
  backend.writeExact(w, weights);
  backend.conv({ x, w, y }, s);
  const out = backend.readExact(y);
  // The outputs are images of 2d channels: their second moments per 1x1 "patch" are the whitened
  // patches' second moments, diagonal with lambda / (lambda + eps): 1 where eps is negligible.
  const whitened = patchSecondMoments({ data: Float32Array.from(out), n: s.n, h: s.oh, w: s.ow, c: s.cout }, 1);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      const expected = a === b ? values[a]! / (values[a]! + eps) : 0;
      assert.ok(Math.abs(whitened[a * 2 * d + b]! - expected) < 1e-6, `E[z${a} z${b}] = ${whitened[a * 2 * d + b]}, expected ${expected}`);
    }
  }
  for (let i = 0; i < out.length; i += s.cout) {
    for (let j = 0; j < d; j++) assert.equal(out[i + d + j], -out[i + j]!, 'channel d + j is the negation of channel j');
  }
});
