/**
 * @file The addon's libjpeg path against sharp's: the same headers, sizes, channels, crop, squash
 * and EXIF orientation, pixels close; the files it leaves to sharp, which then decodes them
 * exactly as it decodes everything else; the loader with and without it.
 */
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { jpegReader, type JpegReader } from '../../backends/cpu/native.js';
import { decodeImage, probeImage, type DecodeSettings, type Header } from './decode.js';
import { decodeFiles, readHeaders } from './decode-files.js';
import { loadImageFolder } from './load.js';

let scratch: string;
let jpeg: JpegReader;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kilosecond-jpeg-'));
  const reader = jpegReader();
  assert.ok(reader, 'the addon is built and the system libjpeg (Debian: libjpeg62-turbo) opens');
  jpeg = reader;
});
after(() => rm(scratch, { recursive: true, force: true }));

/**
 * A photo-like w x h JPEG (quality 90) at `name` under the scratch folder: gradients, a slow wave
 * and some noise, seeded. The wave's period grows with the width, as one scene's would when
 * photographed at a higher resolution.
 */
async function photo(name: string, w: number, h: number, seed: number, orientation?: number): Promise<string> {
  let state = seed >>> 0;
  const noise = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 20;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 3;
      raw[p] = (255 * x) / w + noise();
      raw[p + 1] = (255 * y) / h + noise();
      raw[p + 2] = 128 + 100 * Math.sin(((x + 2 * y) * 256) / w / (15 + seed)) + noise();
    }
  }
  const path = join(scratch, name);
  await mkdir(dirname(path), { recursive: true });
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  await (orientation ? img.withMetadata({ orientation }) : img).jpeg({ quality: 90 }).toFile(path);
  return path;
}

async function header(path: string): Promise<Header> {
  const p = await probeImage(path);
  assert.ok(!('error' in p), `${path}: ${'error' in p ? p.error : ''}`);
  return p;
}

/** What the native path alone makes of each file: its pixels, or undefined where it leaves the file to sharp. */
async function nativeOnly(files: string[], s: DecodeSettings): Promise<Array<Uint8Array | undefined>> {
  const { headers, pixels } = await jpeg.readJpegs(files, s.size, s.channels, s.resize === 'stretch');
  const record = s.size * s.size * s.channels;
  return files.map((_, k) => (headers[5 * k] ? pixels.subarray(k * record, (k + 1) * record) : undefined));
}

/**
 * sharp's pixels for the same geometry: the exact centre square of the photo as shown (sharp's
 * own crop rounds the resized side to whole pixels first, a fraction of a pixel away), resized.
 */
async function sharpCentre(path: string, s: DecodeSettings): Promise<Uint8Array> {
  if (s.resize === 'stretch') return decodeImage(path, s);
  const { width, height } = await header(path);
  const side = Math.min(width, height);
  const { data } = await sharp(await sharp(path).rotate().extract({ left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2), width: side, height: side }).png().toBuffer())
    .resize(s.size, s.size)
    .toColourspace(s.channels === 1 ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

describe('the libjpeg path decodes JPEGs as sharp does', () => {
  it('reads the same headers as sharp: size as shown after EXIF orientation, grey or colour', async () => {
    const colour = await photo('h/colour.jpg', 300, 200, 1);
    const turned = await photo('h/turned.jpg', 300, 200, 2, 6);
    const grey = join(scratch, 'h/grey.jpg');
    await sharp(await readFile(colour)).toColourspace('b-w').jpeg().toFile(grey);
    const files = [colour, turned, grey];
    const ours = await readHeaders(files);
    const theirs = await Promise.all(files.map(probeImage));
    assert.deepEqual(ours, theirs);
    assert.deepEqual(ours.map((h) => ('error' in h ? h.error : [h.width, h.height, h.grey])), [[300, 200, false], [200, 300, false], [300, 200, true]]);
    // Read natively, not by the fallback: the native call itself reports them.
    const { headers } = await jpeg.readJpegs(files, 0, 3, false);
    assert.deepEqual([headers[0], headers[5], headers[10]], [1, 1, 1]);
  });

  it('sizes, channels, crop and squash, EXIF orientation 6: pixels within a few levels of sharp', async () => {
    const files = [
      await photo('square.jpg', 256, 256, 1),
      await photo('wide.jpg', 300, 200, 2),
      await photo('tall.jpg', 200, 300, 3),
      await photo('turned.jpg', 300, 200, 4, 6),
      await photo('large.jpg', 1024, 768, 5),
    ];
    for (const settings of [
      { size: 32, channels: 3, resize: 'crop' },
      { size: 32, channels: 3, resize: 'stretch' },
      { size: 48, channels: 1, resize: 'crop' },
    ] satisfies DecodeSettings[]) {
      const ours = await nativeOnly(files, settings);
      for (const [k, f] of files.entries()) {
        const pixels = ours[k];
        assert.ok(pixels, `${f}: left to sharp`);
        const theirs = await sharpCentre(f, settings);
        assert.equal(pixels.length, settings.size * settings.size * settings.channels);
        assert.equal(theirs.length, pixels.length);
        const d = meanAbsDiff(pixels, theirs);
        // Not 0: both shrink while decoding and resample with Lanczos-3, but by different routes
        // (sharp's libvips resamples in two passes of its own, on its own pixel grid).
        assert.ok(d < 2, `${f} ${JSON.stringify(settings)}: mean difference ${d.toFixed(2)} of 255`);
      }
    }
  });

  it('all eight EXIF orientations turn and mirror the image as sharp does', async () => {
    // Quadrants of different colours, so that any wrong turn or mirror moves whole colours.
    const w = 96;
    const h = 64;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) raw.set([x < w / 2 ? 230 : 20, y < h / 2 ? 230 : 20, x < w / 4 ? 200 : 60], (y * w + x) * 3);
    }
    const settings: DecodeSettings = { size: 32, channels: 3, resize: 'stretch' };
    for (let orientation = 1; orientation <= 8; orientation++) {
      const f = join(scratch, `orientation-${orientation}.jpg`);
      await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).withMetadata({ orientation }).jpeg({ quality: 95 }).toFile(f);
      const [ours] = await nativeOnly([f], settings);
      assert.ok(ours, `orientation ${orientation}: left to sharp`);
      // Resampling alone differs by about one level; a wrong turn or mirror by about a hundred.
      const d = meanAbsDiff(ours, await decodeImage(f, settings));
      assert.ok(d < 2, `orientation ${orientation}: mean difference ${d.toFixed(2)} of 255`);
    }
  });

  it('leaves to sharp what it would decode unlike sharp, and sharp then decodes it as usual', async () => {
    const rgb = await photo('rgb.jpg', 64, 64, 5);
    const cmyk = join(scratch, 'cmyk.jpg');
    await sharp(await readFile(rgb)).toColourspace('cmyk').jpeg().toFile(cmyk);
    const p3 = join(scratch, 'p3.jpg');
    await sharp(await readFile(rgb)).withIccProfile('p3').jpeg().toFile(p3);
    const small = await photo('small.jpg', 20, 20, 6); // would need enlarging to 32
    const cut = join(scratch, 'cut.jpg');
    const whole = await readFile(await photo('whole.jpg', 128, 128, 7));
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.9)));
    const png = join(scratch, 'named.jpg'); // a PNG named .jpg
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#808080' } }).png().toFile(png);
    const settings: DecodeSettings = { size: 32, channels: 3, resize: 'crop' };
    const left = [cmyk, p3, small, cut, png, join(scratch, 'missing.jpg')];
    assert.deepEqual((await nativeOnly(left, settings)).map((p) => p === undefined), left.map(() => true));
    assert.ok((await nativeOnly([rgb], settings))[0], 'the same photo without a foreign profile is decoded natively');

    const decodable = [cmyk, p3, small, png];
    const got = await decodeFiles(await Promise.all(decodable.map(async (path) => ({ path, header: await header(path) }))), settings);
    for (const [k, f] of decodable.entries()) {
      const r = got[k]!;
      assert.ok('pixels' in r, f);
      assert.deepEqual(r.pixels, await decodeImage(f, settings), `${f}: sharp's pixels`);
    }
    const [broken] = await decodeFiles([{ path: cut, header: { width: 128, height: 128, grey: false, format: 'jpeg', space: 'srgb' } }], settings);
    assert.ok(broken && 'error' in broken && /premature|truncated|corrupt/i.test(broken.error), JSON.stringify(broken));
  });

  it('survives damaged files: bytes overwritten in the header, the EXIF block or the scan, or cut short', async () => {
    // The native path parses EXIF itself and runs libjpeg on whatever the file holds; damage must
    // end in pixels or in "leave it to sharp", never in a crash (400 such files under valgrind: no invalid access in the addon).
    const original = await readFile(await photo('damaged/original.jpg', 64, 48, 8, 6));
    let state = 12345;
    const next = (below: number) => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) % below);
    const damaged: string[] = [];
    for (let k = 0; k < 300; k++) {
      const bytes = Buffer.from(original);
      const reach = k % 2 === 0 ? 400 : bytes.length; // every other file: damage among the markers and EXIF
      for (let hit = 0; hit <= next(4); hit++) bytes[next(reach)] = next(256);
      const path = join(scratch, 'damaged', `${k}.jpg`);
      await writeFile(path, k % 7 === 0 ? bytes.subarray(0, next(bytes.length)) : bytes);
      damaged.push(path);
    }
    for (const s of [{ size: 32, channels: 3, resize: 'crop' }, { size: 16, channels: 1, resize: 'stretch' }] as const) {
      const native = await nativeOnly(damaged, s);
      assert.ok(native.some((p) => p === undefined) && native.some((p) => p !== undefined), 'some damage is decodable, some is not');
    }
    const { headers } = await jpeg.readJpegs(damaged, 0, 3, false);
    for (let k = 0; k < damaged.length; k++) {
      const [read, width, height, , orientation] = headers.subarray(5 * k, 5 * k + 5);
      if (read) assert.ok(width! > 0 && height! > 0 && orientation! >= 1 && orientation! <= 8, `${damaged[k]}: ${headers.subarray(5 * k, 5 * k + 5).join(' ')}`);
    }
  });

  it('refuses bad arguments at the boundary', () => {
    const call = jpeg.readJpegs as unknown as (...args: unknown[]) => unknown;
    assert.throws(() => call.call(jpeg, ['a.jpg'], 32, 2, false), RangeError);
    assert.throws(() => call.call(jpeg, [7], 32, 3, false), TypeError);
    assert.throws(() => call.call(jpeg, 'a.jpg', 32, 3, false), TypeError);
  });
});

describe('the folder loader with the libjpeg path', () => {
  it('lists a truncated JPEG as a bad image, by name', async () => {
    const d = join(scratch, 'folder');
    for (const c of ['a', 'b']) for (let i = 0; i < 3; i++) await photo(`folder/${c}/${i}.jpg`, 64, 64, i);
    const whole = await readFile(join(d, 'a', '0.jpg'));
    await writeFile(join(d, 'a', 'cut.jpg'), whole.subarray(0, Math.floor(whole.length * 0.9)));
    const f = await loadImageFolder(d, { cacheDir: join(scratch, 'cache'), skipBadImages: true, imageSize: 32 });
    assert.deepEqual(f.skipped.map((b) => b.path.split('/').slice(-2).join('/')), ['a/cut.jpg']);
    assert.equal(f.train.count + f.test.count, 6);
  });

  it('without it, sharp decodes everything into a cache of its own, close to the native pixels', async () => {
    const d = join(scratch, 'folder2');
    for (const c of ['a', 'b']) for (let i = 0; i < 4; i++) await photo(`folder2/${c}/${i}.jpg`, 96, 80, 10 + i);
    const cacheDir = join(scratch, 'cache2');
    const native = await loadImageFolder(d, { cacheDir, imageSize: 32 });
    const sharpOnly = await loadImageFolder(d, { cacheDir, imageSize: 32, jpeg: false });
    assert.equal(sharpOnly.decoded, 8, 'the native cache is not reused for sharp\'s pixels');
    assert.equal((await readdir(cacheDir)).length, 4, 'headers and pixels, once per decoder');
    const d1 = meanAbsDiff(native.train.images, sharpOnly.train.images);
    assert.ok(d1 > 0 && d1 < 3, `mean difference ${d1.toFixed(2)}`);
    assert.equal((await loadImageFolder(d, { cacheDir, imageSize: 32 })).decoded, 0, 'the native cache is still there');
  });
});
