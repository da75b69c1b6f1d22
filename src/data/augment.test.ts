import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../core/errors.js';
import { datasetInfo } from './datasets.js';
import { applyAugment, augmentFor, augmentImage, defaultAugment, drawAugment, noAugment, validateAugment, type AugmentConfig } from './augment.js';
import { epochPermutation, rngFor, Stream } from './prng.js';

/** An image whose every pixel says where it came from: value = (y * w + x) * c + channel, mod 251. */
function coordinateImage(h: number, w: number, c: number): Uint8Array {
  const img = new Uint8Array(h * w * c);
  for (let i = 0; i < img.length; i++) img[i] = (i % 251) + 1; // never 0, never equal to the fill below
  return img;
}

const fill = Uint8Array.from([0, 0, 0]);

function augmentOne(cfg: AugmentConfig, src: Uint8Array, h: number, w: number, c: number, seed: number, epoch: number, index: number): Uint8Array {
  const dst = new Uint8Array(h * w * c);
  const one = new Uint8Array(src); // index 0 of a one-image set, so the draw depends on `index` only
  const draw = drawAugment(cfg, h, w, seed, epoch, index);
  applyAugment(draw, cfg, one, 0, h, w, c, dst, 0, fill);
  return dst;
}

test('the same seed gives the same bytes; another seed, epoch or index other bytes', () => {
  const [h, w, c] = [32, 32, 3];
  const set = new Uint8Array(4 * h * w * c);
  for (let i = 0; i < set.length; i++) set[i] = (i * 7919) % 256;
  const run = (seed: number, epoch: number, index: number) => {
    const dst = new Uint8Array(h * w * c);
    augmentImage(defaultAugment, seed, epoch, index, set, h, w, c, dst, 0, fill);
    return dst;
  };
  assert.deepEqual(run(5, 2, 3), run(5, 2, 3));
  assert.notDeepEqual(run(5, 2, 3), run(6, 2, 3));
  assert.notDeepEqual(run(5, 2, 3), run(5, 1, 3));
  assert.notDeepEqual(run(5, 2, 2), run(5, 2, 3));
});

test('crop offsets stay within the pad and every output pixel is the reflected source pixel', () => {
  const [h, w, c] = [28, 28, 1];
  const src = coordinateImage(h, w, c);
  const cfg = { ...noAugment, crop: true, pad: 4 };
  const seen = new Set<string>();
  for (let index = 0; index < 400; index++) {
    const d = drawAugment(cfg, h, w, 1, 0, index);
    assert.ok(d.cropY >= 0 && d.cropY <= 8 && d.cropX >= 0 && d.cropX <= 8, `offset ${d.cropY},${d.cropX}`);
    seen.add(`${d.cropY},${d.cropX}`);
    const out = augmentOne(cfg, src, h, w, c, 1, 0, index);
    const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
    for (const [y, x] of [[0, 0], [27, 27], [0, 27], [13, 5]] as const) {
      const sy = reflect(y + d.cropY - 4, h);
      const sx = reflect(x + d.cropX - 4, w);
      assert.equal(out[y * w + x], src[sy * w + sx]);
    }
  }
  assert.ok(seen.size > 60, `only ${seen.size} of 81 offsets drawn in 400 tries`);
});

test("zero padding: pixels shifted in from outside the image are black, the rest come from the shifted source", () => {
  const [h, w, c] = [28, 28, 3];
  const src = coordinateImage(h, w, c);
  const cfg: AugmentConfig = { ...noAugment, crop: true, pad: 4, padMode: 'zero' };
  let blackSeen = 0;
  for (let index = 0; index < 200; index++) {
    const d = drawAugment(cfg, h, w, 3, 0, index);
    const out = augmentOne(cfg, src, h, w, c, 3, 0, index);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sy = y + d.cropY - 4;
        const sx = x + d.cropX - 4;
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        for (let ch = 0; ch < c; ch++) {
          const got = out[(y * w + x) * c + ch];
          if (inside) assert.equal(got, src[(sy * w + sx) * c + ch]);
          else {
            assert.equal(got, 0, `pixel ${y},${x} of image ${index} comes from outside and must be black`);
            blackSeen++;
          }
        }
      }
    }
  }
  assert.ok(blackSeen > 0, 'some crops reach into the padding');
});

test('an unknown pad mode is refused, naming the option', () => {
  assert.throws(() => validateAugment({ ...defaultAugment, padMode: 'edge' as 'zero' }, 28, 28), (e: Error) => e instanceof UserError && /^padMode edge: choose reflect or zero$/.test(e.message));
});

test('flip happens with probability near 0.5 and mirrors the rows', () => {
  const [h, w, c] = [32, 32, 3];
  const src = coordinateImage(h, w, c);
  const cfg = { ...noAugment, flip: true };
  let flips = 0;
  const n = 4000;
  for (let index = 0; index < n; index++) {
    const d = drawAugment(cfg, h, w, 9, 0, index);
    if (d.flipped) flips++;
    if (index < 20) {
      const out = augmentOne(cfg, src, h, w, c, 9, 0, index);
      const x = 3;
      const sx = d.flipped ? w - 1 - x : x;
      assert.deepEqual([...out.subarray((5 * w + x) * c, (5 * w + x + 1) * c)], [...src.subarray((5 * w + sx) * c, (5 * w + sx + 1) * c)]);
    }
  }
  // 4000 fair coins: 0.5 +- 4 standard deviations (0.032).
  assert.ok(Math.abs(flips / n - 0.5) < 0.032, `flip rate ${flips / n}`);
});

test('cutout blanks exactly one inside square of the configured size', () => {
  const [h, w, c] = [32, 32, 3];
  const src = coordinateImage(h, w, c);
  for (const size of [8, 5, 32]) {
    const cfg = { ...noAugment, cutout: size, cutoutCount: 1 };
    for (let index = 0; index < 50; index++) {
      const out = augmentOne(cfg, src, h, w, c, 3, 1, index);
      const d = drawAugment(cfg, h, w, 3, 1, index);
      const { y, x } = d.cutouts[0]!;
      assert.ok(y >= 0 && x >= 0 && y + size <= h && x + size <= w);
      let zeros = 0;
      for (let i = 0; i < out.length; i++) if (out[i] === 0) zeros++;
      assert.equal(zeros, size * size * c);
      assert.equal(out[(y * w + x) * c], 0);
    }
  }
});

test('everything off copies the image unchanged', () => {
  const src = coordinateImage(28, 28, 1);
  assert.deepEqual(augmentOne(noAugment, src, 28, 28, 1, 1, 1, 1), src);
});

test('bad augmentation options are user errors naming the option', () => {
  assert.throws(() => validateAugment({ ...defaultAugment, pad: -1 }, 32, 32), (e) => e instanceof UserError && /^pad -1: /.test(e.message));
  assert.throws(() => validateAugment({ ...defaultAugment, cutout: 40 }, 32, 32), (e) => e instanceof UserError && /^cutout 40: /.test(e.message));
  assert.throws(() => validateAugment({ ...defaultAugment, cutout: 2.5 }, 32, 32), UserError);
});

test('epoch permutations are permutations, seeded, and differ between epochs', () => {
  const p = epochPermutation(1000, 7, 0);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(p, epochPermutation(1000, 7, 0));
  assert.notDeepEqual(p, epochPermutation(1000, 7, 1));
  assert.notDeepEqual(p, epochPermutation(1000, 8, 0));
});

test('the generator is uniform enough: mean and bucket counts of 100k draws', () => {
  const rng = rngFor(1, 2, 3, Stream.Augment);
  const buckets = new Array<number>(10).fill(0);
  let sum = 0;
  const n = 100000;
  for (let i = 0; i < n; i++) {
    const f = rng.nextFloat();
    sum += f;
    buckets[Math.floor(f * 10)]!++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005);
  for (const b of buckets) assert.ok(Math.abs(b - n / 10) < 500, `bucket ${b}`);
});

test('alternating flip: each image is mirrored in every other epoch, half of them in the first', () => {
  const cfg = { ...noAugment, flip: true, alternateFlip: true };
  const n = 2000;
  let firstEpoch = 0;
  for (let index = 0; index < n; index++) {
    const flips = [0, 1, 2, 3].map((epoch) => drawAugment(cfg, 8, 8, 7, epoch, index).flipped);
    assert.deepEqual(flips, [flips[0], !flips[0], flips[0], !flips[0]], `image ${index}`);
    if (flips[0]) firstEpoch++;
  }
  assert.ok(Math.abs(firstEpoch / n - 0.5) < 0.035, `first-epoch flip rate ${firstEpoch / n}`);
  // The crop draws are the plain flip's: switching the flip mode moves no other choice.
  const translate = { ...cfg, crop: true, pad: 2 };
  assert.deepEqual(
    [drawAugment(translate, 8, 8, 7, 3, 11).cropY, drawAugment(translate, 8, 8, 7, 3, 11).cropX],
    [drawAugment({ ...translate, alternateFlip: false }, 8, 8, 7, 3, 11).cropY, drawAugment({ ...translate, alternateFlip: false }, 8, 8, 7, 3, 11).cropX],
  );
});

test('the flip is the dataset\'s unless given: off for MNIST\'s digits, on for garments and photos', () => {
  const open = { crop: true, cutoutCount: 1 };
  assert.equal(augmentFor(open, datasetInfo('mnist')).flip, false);
  assert.equal(augmentFor(open, datasetInfo('fashion-mnist')).flip, true);
  assert.equal(augmentFor(open, datasetInfo('cifar10')).flip, true);
  assert.equal(augmentFor({ ...open, flip: true }, datasetInfo('mnist')).flip, true, '--flip: the article\'s recipe on MNIST');
  assert.equal(augmentFor({ ...open, flip: false }, datasetInfo('cifar10')).flip, false);
});
