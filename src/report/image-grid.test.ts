import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageGridPng, upscaleToRgba, type PixelImage } from './image-grid.js';
import { decodePng, greyVariance } from '../testing/png-check.js';

function solid(height: number, width: number, rgb: readonly [number, number, number]): PixelImage {
  const data = new Uint8Array(height * width * 3);
  for (let p = 0; p < height * width; p++) data.set(rgb, 3 * p);
  return { height, width, channels: 3, data };
}

function gradient(height: number, width: number): PixelImage {
  const data = Uint8Array.from({ length: height * width }, (_, i) => (i * 7) % 256);
  return { height, width, channels: 1, data };
}

function countPixels(png: ReturnType<typeof decodePng>, rgb: readonly [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (png.data[i] === rgb[0] && png.data[i + 1] === rgb[1] && png.data[i + 2] === rgb[2]) n++;
  }
  return n;
}

describe('upscaleToRgba', () => {
  it('turns each pixel into a scale x scale square (grey to RGB)', () => {
    const rgba = upscaleToRgba({ height: 1, width: 2, channels: 1, data: Uint8Array.of(10, 200) }, 2);
    const greys = Array.from({ length: 8 }, (_, p) => rgba[4 * p]);
    assert.deepEqual(greys, [10, 10, 200, 200, 10, 10, 200, 200]);
    assert.deepEqual([rgba[1], rgba[2], rgba[3]], [10, 10, 255]);
  });

  it('rejects data of the wrong length', () => {
    assert.throws(() => upscaleToRgba({ height: 2, width: 2, channels: 3, data: new Uint8Array(4) }, 1), /2x2x3/);
  });
});

describe('imageGridPng', () => {
  it('draws every image at its integer scale, with captions and titles', () => {
    const red: [number, number, number] = [255, 0, 0];
    const png = decodePng(
      imageGridPng({
        title: 'augmentations',
        columnTitles: ['original', 'augmented 1', 'augmented 2'],
        rowTitles: ['first', 'second'],
        scale: 3,
        rows: [
          [{ image: solid(28, 28, red), caption: 'red' }, { image: gradient(28, 28), caption: 'seven' }, null],
          [{ image: gradient(28, 28), caption: 'a longer caption than the image' }, { image: gradient(28, 28) }, { image: gradient(28, 28) }],
        ],
      }),
    );
    assert.equal(countPixels(png, red), 28 * 28 * 9, 'the red image is there, exactly 84x84, and unsmoothed');
    assert.ok(png.width > 3 * 84 && png.height > 2 * 84);
    assert.ok(greyVariance(png) > 0);
  });

  it('enlarges small images to about 112 pixels by default', () => {
    const blue: [number, number, number] = [0, 0, 255];
    const png = decodePng(imageGridPng({ rows: [[{ image: solid(32, 32, blue) }]] }));
    assert.equal(countPixels(png, blue), 96 * 96);
  });
});
