/**
 * @file Folders of images as datasets: layouts, formats, sizes and channels, the decode cache,
 * the stratified split on the real MNIST test set, and every bad input naming its file.
 */
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { UserError } from '../../core/errors.js';
import { sharedDir } from '../../testing/paths.js';
import { writePngFolder } from '../../testing/image-folders.js';
import { loadDataset } from '../load-dataset.js';
import { loadImageFolder, type FolderLoadOptions } from './load.js';

let scratch: string;
let cacheDir: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kilosecond-folder-'));
  cacheDir = join(scratch, 'cache');
});
after(() => rm(scratch, { recursive: true, force: true }));

/** A w x h image whose left half is `left` and right half `right` (RGB), written in `format`. */
async function twoTone(path: string, w: number, h: number, left: [number, number, number], right: [number, number, number], format: 'png' | 'jpeg' | 'webp' | 'gif', alpha = false): Promise<void> {
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x < w / 2 ? left : right;
      raw.set(alpha ? [...c, 128] : c, (y * w + x) * channels);
    }
  }
  const img = sharp(raw, { raw: { width: w, height: h, channels } });
  await mkdir(join(path, '..'), { recursive: true });
  await (format === 'jpeg' ? img.jpeg({ quality: 100 }) : format === 'webp' ? img.webp({ lossless: true }) : format === 'gif' ? img.gif() : img.png()).toFile(path);
}

async function greyPng(path: string, side: number, value: number): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await sharp(Buffer.alloc(side * side, value), { raw: { width: side, height: side, channels: 1 } }).toColourspace('b-w').png().toFile(path);
}

const load = (dir: string, o: FolderLoadOptions = {}) => loadImageFolder(dir, { cacheDir, ...o });
const rejects = (dir: string, pattern: RegExp, o: FolderLoadOptions = {}) => assert.rejects(load(dir, o), (e) => e instanceof UserError && pattern.test(e.message));
const red: [number, number, number] = [255, 0, 0];
const blue: [number, number, number] = [0, 0, 255];

describe('formats, sizes and channels', () => {
  let dir: string;
  before(async () => {
    dir = join(scratch, 'mixed');
    await twoTone(join(dir, 'a', 'one.jpg'), 64, 32, red, blue, 'jpeg');
    await twoTone(join(dir, 'a', 'nested', 'deeper', 'two.webp'), 40, 40, red, blue, 'webp');
    await twoTone(join(dir, 'b', 'three.png'), 100, 50, red, blue, 'png', true);
    await twoTone(join(dir, 'b', 'four.gif'), 32, 32, red, blue, 'gif');
    await greyPng(join(dir, 'b', 'five.png'), 20, 200);
    await writeFile(join(dir, 'b', 'notes.txt'), 'not an image');
    await writeFile(join(dir, 'a', '.DS_Store'), '');
    await writeFile(join(dir, 'Thumbs.db'), '');
  });

  it('mixed sizes and modes: 32x32 RGB, alpha dropped, nested folders count for their class, other files ignored', async () => {
    const f = await load(dir, { testSplit: 0.5 });
    assert.deepEqual(f.info.classes, ['a', 'b']);
    assert.deepEqual([f.settings.size, f.settings.channels, f.info.channels], [32, 3, 3]);
    assert.equal(f.train.count + f.test.count, 5);
    assert.equal(f.scan.ignored, 3);
    assert.equal(f.scan.layout, 'hold-out split');
  });

  it('crop keeps the centre square; stretch keeps the whole image', async () => {
    // 64x32: red for x < 16, green for 16..47, blue from 48; the centre square is all green.
    const only = join(scratch, 'wide');
    const raw = Buffer.alloc(64 * 32 * 3);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) raw[(y * 64 + x) * 3 + (x < 16 ? 0 : x < 48 ? 1 : 2)] = 255;
    for (const c of ['x', 'y']) {
      for (const n of ['1', '2']) {
        await mkdir(join(only, c), { recursive: true });
        await sharp(raw, { raw: { width: 64, height: 32, channels: 3 } }).png().toFile(join(only, c, `${n}.png`));
      }
    }
    const pixel = (set: { images: Uint8Array }, x: number) => [...set.images.subarray((16 * 32 + x) * 3, (16 * 32 + x) * 3 + 3)];
    const green = [0, 255, 0];
    const stretched = await load(only, { imageSize: 32, resize: 'stretch', testSplit: 0.5 });
    assert.deepEqual([pixel(stretched.train, 2), pixel(stretched.train, 16), pixel(stretched.train, 29)], [red, green, blue]);
    const cropped = await load(only, { imageSize: 32, resize: 'crop', testSplit: 0.5 });
    assert.deepEqual([pixel(cropped.train, 0), pixel(cropped.train, 16), pixel(cropped.train, 31)], [green, green, green]);
  });

  it('all greyscale of one size: that size and one channel; --channels 3 forces RGB', async () => {
    const g = join(scratch, 'grey');
    for (const [c, v] of [['dark', 30], ['light', 220]] as const) for (let i = 0; i < 3; i++) await greyPng(join(g, c, `${i}.png`), 24, v + i);
    const f = await load(g);
    assert.deepEqual([f.settings.size, f.settings.channels], [24, 1]);
    assert.equal(f.train.images.length, f.train.count * 24 * 24);
    assert.ok(Math.abs(f.info.mean[0]! - (f.train.images.reduce((s, v) => s + v, 0) / f.train.images.length) / 255) < 1e-9);
    const rgb = await load(g, { channels: 3 });
    assert.equal(rgb.info.channels, 3);
  });

  it('the cache: a second load decodes nothing; a touched, an added and a removed file cost exactly their own decode', async () => {
    const d = join(scratch, 'cached');
    for (let i = 0; i < 4; i++) {
      await twoTone(join(d, 'p', `${i}.png`), 40, 40, red, blue, 'png');
      await twoTone(join(d, 'q', `${i}.png`), 40, 40, blue, red, 'png');
    }
    assert.equal((await load(d)).decoded, 8);
    const again = await load(d);
    assert.equal(again.decoded, 0);
    const future = new Date(Date.now() + 60_000);
    await utimes(join(d, 'p', '1.png'), future, future);
    assert.equal((await load(d)).decoded, 1);
    await twoTone(join(d, 'q', 'new.png'), 40, 40, blue, red, 'png');
    const added = await load(d);
    assert.equal(added.decoded, 1);
    assert.equal(added.train.count + added.test.count, 9);
    await unlink(join(d, 'q', 'new.png'));
    const removed = await load(d);
    assert.equal(removed.decoded, 0);
    assert.equal(removed.train.count + removed.test.count, 8);
    assert.deepEqual(removed.train.images, again.train.images);
  });
});

describe('layouts', () => {
  it('train/ with test/ or val/: the splits as given; a test class not in train/ is named', async () => {
    for (const testName of ['test', 'val']) {
      const d = join(scratch, `split-${testName}`);
      for (const c of ['cat', 'dog']) {
        for (let i = 0; i < 3; i++) await greyPng(join(d, 'train', c, `${i}.png`), 16, i);
        await greyPng(join(d, testName, c, 'x.png'), 16, 9);
      }
      const f = await load(d);
      assert.equal(f.scan.layout, 'train/test folders');
      assert.deepEqual([f.train.count, f.test.count], [6, 2]);
    }
    await greyPng(join(scratch, 'split-test', 'test', 'bird', 'x.png'), 16, 9);
    await rejects(join(scratch, 'split-test'), /split-test\/test: class folder 'bird' not in .*split-test\/train/);
  });

  it('the real MNIST test set as DIR/<class>/: a stratified hold-out split, every class in both, the same for the same seed', async () => {
    const { test: set, info } = await loadDataset('mnist', { split: 'test', dataDir: join(sharedDir, 'data', 'mnist') });
    const d = join(scratch, 'mnist-folder');
    await writePngFolder(d, set!, info.classes);
    const f = await load(d, { testSplit: 0.1, seed: 3 });
    assert.deepEqual([f.settings.size, f.settings.channels], [28, 1]);
    const perClass = (labels: Uint8Array) => info.classes.map((_, c) => labels.filter((l) => l === c).length);
    const all = perClass(set!.labels);
    const held = perClass(f.test.labels);
    held.forEach((n, c) => assert.ok(Math.abs(n - all[c]! * 0.1) <= 1, `class ${c}: ${n} of ${all[c]} held out`));
    assert.equal(f.train.count + f.test.count, 10000);
    const same = await load(d, { testSplit: 0.1, seed: 3 });
    assert.deepEqual(same.scan.test.map((x) => x.path), f.scan.test.map((x) => x.path));
    const other = await load(d, { testSplit: 0.1, seed: 4 });
    assert.notDeepEqual(other.scan.test.map((x) => x.path), f.scan.test.map((x) => x.path));
  });
});

describe('bad input names the file or folder', () => {
  it('undecodable files stop the load, listed; with skipBadImages they are left out and listed', async () => {
    const d = join(scratch, 'bad');
    for (const c of ['a', 'b']) for (let i = 0; i < 3; i++) await twoTone(join(d, c, `${i}.jpg`), 32, 32, red, blue, 'jpeg');
    const whole = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    await writeFile(join(d, 'a', 'truncated.jpg'), whole.subarray(0, whole.length / 2));
    await writeFile(join(d, 'b', 'text.png'), 'this is not a PNG');
    await rejects(d, /2 files cannot be decoded as images:\n.*a\/truncated\.jpg: .*\n.*b\/text\.png: .*\n.*pass skipBadImages: true to train without them/);
    const f = await load(d, { skipBadImages: true });
    assert.deepEqual(f.skipped.map((b) => b.path.split('/').slice(-2).join('/')), ['a/truncated.jpg', 'b/text.png']);
    assert.equal(f.train.count + f.test.count, 6);
  });

  it('an image too large to decode is refused from its header, by name', async () => {
    const d = join(scratch, 'huge');
    for (const c of ['a', 'b']) for (let i = 0; i < 2; i++) await greyPng(join(d, c, `${i}.png`), 16, 1);
    // A PNG whose header claims 20000x20000: refused before any pixel is decoded.
    const small = await sharp(Buffer.alloc(16), { raw: { width: 4, height: 4, channels: 1 } }).png().toBuffer();
    const huge = Buffer.from(small);
    huge.writeUInt32BE(20000, 16);
    huge.writeUInt32BE(20000, 20);
    await writeFile(join(d, 'a', 'scan.png'), huge);
    await rejects(d, /a\/scan\.png: /);
  });

  it('no folder, not a folder, an empty one, one class, a class without images, a link loop', async () => {
    await rejects(join(scratch, 'nowhere'), /nowhere: no such folder/);
    await writeFile(join(scratch, 'file.png'), '');
    await rejects(join(scratch, 'file.png'), /file\.png: not a folder/);
    await mkdir(join(scratch, 'empty'));
    await rejects(join(scratch, 'empty'), /empty: no class folders/);
    await greyPng(join(scratch, 'one', 'only', 'x.png'), 16, 1);
    await rejects(join(scratch, 'one'), /only one class folder \('only'\); a classifier needs at least two/);
    await greyPng(join(scratch, 'hollow', 'full', 'x.png'), 16, 1);
    await mkdir(join(scratch, 'hollow', 'none'));
    await writeFile(join(scratch, 'hollow', 'none', 'readme.txt'), '');
    await rejects(join(scratch, 'hollow'), /hollow\/none: class 'none' has no images/);
    await greyPng(join(scratch, 'loop', 'a', 'x.png'), 16, 1);
    await greyPng(join(scratch, 'loop', 'b', 'x.png'), 16, 1);
    await symlink(join(scratch, 'loop', 'a'), join(scratch, 'loop', 'a', 'again'));
    await rejects(join(scratch, 'loop'), /loop\/a\/again: a symbolic link loop/);
  });

  it('an unreadable class folder is named', { skip: process.getuid?.() === 0 && 'root reads every folder: permissions cannot be tested as root' }, async () => {
    const { chmod } = await import('node:fs/promises');
    await greyPng(join(scratch, 'locked', 'a', 'x.png'), 16, 1);
    await greyPng(join(scratch, 'locked', 'b', 'x.png'), 16, 1);
    await chmod(join(scratch, 'locked', 'b'), 0);
    await rejects(join(scratch, 'locked'), /locked\/b: permission denied/);
    await chmod(join(scratch, 'locked', 'b'), 0o755);
  });
});
