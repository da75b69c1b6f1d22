import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PixelImage } from '../report/image-grid.js';
import { decodePng, greyVariance } from '../testing/png-check.js';
import { gradcamFigure, jet, overlayHeatmap, resizeHeatmap, type Heatmap } from './render.js';

function closeTo(actual: readonly number[], expected: readonly number[], tolerance = 1e-12) {
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tolerance, `${actual} vs ${expected}`));
}

const digit: PixelImage = {
  height: 28,
  width: 28,
  channels: 1,
  data: Uint8Array.from({ length: 28 * 28 }, (_, i) => ((i % 28) > 8 && (i % 28) < 20 ? 230 : 10)),
};

function centreBlob(size: number): Heatmap {
  const data = Float32Array.from({ length: size * size }, (_, i) => {
    const y = Math.floor(i / size) - (size - 1) / 2;
    const x = (i % size) - (size - 1) / 2;
    return Math.exp(-(x * x + y * y) / size);
  });
  return { height: size, width: size, data };
}

describe('jet', () => {
  it('matches matplotlib at the ends: dark blue to dark red', () => {
    closeTo(jet(0), [0, 0, 0.5]);
    closeTo(jet(1), [0.5, 0, 0]);
  });

  it('matches matplotlib cm.jet(0.5), which samples a 256-entry table', () => {
    // matplotlib 3.x: cm.jet(0.5) == (0.4901960784313725, 1.0, 0.4775458570524984, 1.0)
    closeTo(jet(0.5), [0.4901960784313725, 1, 0.4775458570524984], 1e-9);
  });

  it('clamps values outside 0..1', () => {
    assert.deepEqual(jet(-3), jet(0));
    assert.deepEqual(jet(7), jet(1));
    assert.deepEqual(jet(Number.NaN), jet(0));
  });
});

describe('resizeHeatmap', () => {
  it('keeps a constant map constant and interpolates between cells', () => {
    const resized = resizeHeatmap({ height: 1, width: 2, data: Float32Array.of(0, 1) }, 1, 4);
    // Pixel centres at 0.5, 1.5, 2.5, 3.5 of 4 map to -0.25, 0.25, 0.75, 1.25 of 2 (clamped).
    closeTo(Array.from(resized.data), [0, 0.25, 0.75, 1], 1e-6);
  });
});

describe('overlayHeatmap', () => {
  it('gives back the image (as RGB) at alpha 0', () => {
    const out = overlayHeatmap(digit, centreBlob(4), 0);
    assert.equal(out.channels, 3);
    for (let p = 0; p < 28 * 28; p++) {
      assert.deepEqual([out.data[3 * p], out.data[3 * p + 1], out.data[3 * p + 2]], [digit.data[p], digit.data[p], digit.data[p]]);
    }
  });

  it('gives the jet colours alone at alpha 1', () => {
    const out = overlayHeatmap(digit, { height: 1, width: 1, data: Float32Array.of(1) }, 1);
    assert.deepEqual(Array.from(out.data.subarray(0, 3)), [128, 0, 0]);
  });

  it('blends half and half by default', () => {
    const rgb: PixelImage = { height: 1, width: 1, channels: 3, data: Uint8Array.of(200, 100, 0) };
    const out = overlayHeatmap(rgb, { height: 1, width: 1, data: Float32Array.of(0) });
    assert.deepEqual(Array.from(out.data), [100, 50, 64]);
  });
});

describe('gradcamFigure', () => {
  it('lays out image and overlays of two models into a PNG', () => {
    const row = {
      image: digit,
      trueLabel: 'one',
      explanations: [
        { cam: centreBlob(3), predictedLabel: 'one' },
        { cam: centreBlob(3), predictedLabel: 'seven' },
      ],
    };
    const png = decodePng(gradcamFigure([row, row], { modelNames: ['with augmentation', 'without augmentation'], scale: 2 }));
    assert.ok(png.width >= 3 * 56 && png.height >= 2 * 56);
    assert.ok(greyVariance(png) > 0);
  });
});
