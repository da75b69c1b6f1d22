import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../core/errors.js';
import { selectImages } from './select.js';

// 3 classes, unbalanced: 5 images of class 0, 3 of class 1, 2 of class 2.
const labels = Uint8Array.from([0, 1, 0, 2, 0, 1, 0, 2, 1, 0]);

describe('selectImages', () => {
  it('takes the classes in turn, so the first rows show every class once', () => {
    const chosen = selectImages(labels, { images: 6, classes: 3, seed: 1 });
    assert.deepEqual(chosen.map((i) => labels[i]), [0, 1, 2, 0, 1, 2]);
    assert.equal(new Set(chosen).size, 6);
  });

  it('goes on with the classes that have images left', () => {
    const chosen = selectImages(labels, { images: 10, classes: 3, seed: 1 });
    assert.deepEqual(chosen.map((i) => labels[i]), [0, 1, 2, 0, 1, 2, 0, 1, 0, 0]);
    assert.deepEqual([...chosen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const a = selectImages(labels, { images: 5, classes: 3, seed: 7 });
    assert.deepEqual(selectImages(labels, { images: 5, classes: 3, seed: 7 }), a);
    const others = [1, 2, 3, 4, 5].map((seed) => selectImages(labels, { images: 5, classes: 3, seed }).join());
    assert.ok(others.some((o) => o !== a.join()), 'every seed picked the same images');
  });

  it('picks only the asked class', () => {
    const chosen = selectImages(labels, { images: 3, classes: 3, seed: 0, onlyClass: 1 });
    assert.deepEqual([...chosen].sort((a, b) => a - b), [1, 5, 8]);
  });

  it('refuses more images than the test set or the class has, and a class out of range', () => {
    assert.throws(() => selectImages(labels, { images: 11, classes: 3, seed: 0 }), (e: unknown) => e instanceof UserError && /^images 11: the test set has only 10 images/.test(e.message));
    assert.throws(() => selectImages(labels, { images: 4, classes: 3, seed: 0, onlyClass: 2 }), (e: unknown) => e instanceof UserError && /only 2 images of class 2/.test(e.message));
    assert.throws(() => selectImages(labels, { images: 1, classes: 3, seed: 0, onlyClass: 3 }), (e: unknown) => e instanceof UserError && /^onlyClass 3: out of range; .* 0\.\.2/.test(e.message));
    assert.throws(() => selectImages(labels, { images: 0, classes: 3, seed: 0 }), UserError);
  });
});
