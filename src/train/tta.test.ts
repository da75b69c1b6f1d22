/**
 * @file Test-time augmentation: the shifted views are airbench's crops of the reflect-padded
 * image, and each level's weights average to one.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { mirror, shift, trainedViews, ttaFor, viewsOf } from './tta.js';

/** Crop at (oy, ox) of the image padded by 1 with reflection (PyTorch's F.pad(..., 'reflect')), written out directly. */
function paddedCrop(data: Float32Array, h: number, w: number, c: number, oy: number, ox: number): Float32Array {
  const ph = h + 2;
  const pw = w + 2;
  const padded = new Float32Array(ph * pw * c);
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) for (let ch = 0; ch < c; ch++) {
    padded[(y * pw + x) * c + ch] = data[(reflect(y - 1, h) * w + reflect(x - 1, w)) * c + ch]!;
  }
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    out[(y * w + x) * c + ch] = padded[((y + oy) * pw + x + ox) * c + ch]!;
  }
  return out;
}

it('the shifted views are the crops at (0, 0) and (2, 2) of the 1-pixel reflect-padded image', () => {
  const [h, w, c] = [5, 4, 2];
  const data = Float32Array.from({ length: h * w * c }, (_, i) => i * 0.5 - 3);
  const images = { data, n: 1, h, w, c };
  assert.deepEqual(shift(images, -1), paddedCrop(data, h, w, c, 0, 0));
  assert.deepEqual(shift(images, 1), paddedCrop(data, h, w, c, 2, 2));
  assert.deepEqual(mirror({ ...images, data: mirror(images) }), data, 'mirroring twice is the identity');
});

it('each level weighs its views to a total of one, the first view being the image itself', () => {
  for (const level of ['none', 'mirror', 'translate', 'mirror-translate'] as const) {
    const views = viewsOf(level);
    assert.equal(views[0]!.transform, undefined);
    assert.equal(views.reduce((s, v) => s + v.weight, 0), 1, level);
  }
  assert.equal(viewsOf('mirror-translate').length, 6);
  assert.equal(viewsOf('translate').length, 3);
});

it("averages in only the views training showed: no mirror for a model trained without the flip", () => {
  const both = { mirrored: true, shifted: true };
  assert.deepEqual([ttaFor('resnet9', true, both), ttaFor('airbench', true, both), ttaFor('airbench', false, both)], ['mirror', 'mirror-translate', 'none']);
  assert.deepEqual([ttaFor('resnet9', true, { mirrored: false, shifted: true }), ttaFor('airbench', true, { mirrored: false, shifted: true })], ['none', 'translate']);
  assert.equal(ttaFor('airbench', true, { mirrored: true, shifted: false }), 'mirror');
  const fromSettings = (augment: string, augmentation?: object) => trainedViews({ augment, augmentation });
  assert.deepEqual(fromSettings('online', { crop: true, pad: 2, flip: false }), { mirrored: false, shifted: true });
  assert.deepEqual(fromSettings('precomputed', { crop: true, pad: 0, flip: true }), { mirrored: true, shifted: false });
  assert.deepEqual(fromSettings('none', { crop: true, pad: 4, flip: true }), { mirrored: false, shifted: false }, 'augment none trains on the images as they are');
  assert.deepEqual(trainedViews(undefined), both, 'a checkpoint without settings: the recipe, which mirrors and shifts');
});
