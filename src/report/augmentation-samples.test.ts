import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { datasetInfo, type ImageSet } from '../data/datasets.js';
import { augmentationSampleGrid } from './augmentation-samples.js';

// Eight 8x8 grey images whose pixels count up from the image index: distinct and asymmetric,
// so any crop, flip or cutout changes them.
const set: ImageSet = {
  count: 8,
  height: 8,
  width: 8,
  channels: 1,
  images: Uint8Array.from({ length: 8 * 64 }, (_, i) => (i * 3) % 251),
  labels: Uint8Array.from({ length: 8 }, (_, i) => i),
};
const info = datasetInfo('mnist');

describe('augmentationSampleGrid', () => {
  it('puts each picked image first in its row, then its augmented versions, captioned by class', () => {
    const grid = augmentationSampleGrid(info, set, { images: 3, augmentations: 2, seed: 5, augment: { crop: true, pad: 2, padMode: 'reflect', flip: true, cutout: 3, cutoutCount: 1 } });
    assert.equal(grid.rows.length, 3);
    assert.deepEqual(grid.columnTitles, ['original', 'augmented 1', 'augmented 2']);
    for (const row of grid.rows) {
      assert.equal(row.length, 3);
      const original = row[0]!;
      const label = info.classes.indexOf(original.caption!);
      assert.deepEqual(original.image.data, set.images.subarray(label * 64, (label + 1) * 64), 'the original is the image of its caption');
      for (const version of row.slice(1)) {
        assert.equal(version!.caption, original.caption);
        assert.notDeepEqual(version!.image.data, original.image.data);
      }
    }
  });

  it('is reproducible from the seed and varies with it', () => {
    const options = { images: 4, augmentations: 3, seed: 1 };
    const pixels = (seed: number) => augmentationSampleGrid(info, set, { ...options, seed }).rows.flat().map((c) => Array.from(c!.image.data));
    assert.deepEqual(pixels(1), pixels(1));
    assert.notDeepEqual(pixels(1), pixels(2));
  });

  it('draws no more images than the set holds', () => {
    assert.equal(augmentationSampleGrid(info, set, { images: 50, augmentations: 0, seed: 0 }).rows.length, 8);
  });
});
