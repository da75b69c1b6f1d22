/**
 * @file The Skia JPEG path against sharp's: the same sizes, channels, crop, squash and EXIF
 * orientation, pixels close; the files it leaves to sharp; a thread that stops fails its files by
 * name instead of hanging the load.
 */
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeImage, probeImage, type DecodeSettings } from './decode.js';
import { JpegDecoders, skiaDecodes } from './jpeg-workers.js';
import { loadImageFolder } from './load.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kilosecond-jpeg-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

/** A photo-like w x h JPEG (quality 90) at `name` under the scratch folder: gradients, a slow wave and some noise, seeded. */
async function photo(name: string, w: number, h: number, seed: number, orientation?: number): Promise<string> {
  let state = seed >>> 0;
  const noise = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 20;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 3;
      raw[p] = (255 * x) / w + noise();
      raw[p + 1] = (255 * y) / h + noise();
      raw[p + 2] = 128 + 100 * Math.sin((x + 2 * y) / (15 + seed)) + noise();
    }
  }
  const path = join(scratch, name);
  await mkdir(dirname(path), { recursive: true });
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  await (orientation ? img.withMetadata({ orientation }) : img).jpeg({ quality: 90 }).toFile(path);
  return path;
}

async function header(path: string) {
  const p = await probeImage(path);
  assert.ok(!('error' in p), `${path}: ${'error' in p ? p.error : ''}`);
  return p;
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

describe('Skia decodes JPEGs as sharp does', () => {
  it('sizes, channels, crop and squash, EXIF orientation 6: pixels within a few levels of sharp', async () => {
    const files = [
      await photo('square.jpg', 256, 256, 1),
      await photo('wide.jpg', 300, 200, 2),
      await photo('tall.jpg', 200, 300, 3),
      await photo('turned.jpg', 300, 200, 4, 6),
    ];
    const turned = await header(files[3]!);
    assert.deepEqual([turned.width, turned.height], [200, 300]);
    for (const settings of [
      { size: 32, channels: 3, resize: 'crop' },
      { size: 32, channels: 3, resize: 'stretch' },
      { size: 48, channels: 1, resize: 'crop' },
    ] satisfies DecodeSettings[]) {
      const skia = new JpegDecoders(settings, 2);
      try {
        for (const f of files) {
          const h = await header(f);
          assert.ok(skiaDecodes(h), f);
          const ours = await skia.decode(f, h);
          assert.ok(ours, `${f}: left to sharp`);
          const theirs = await decodeImage(f, settings);
          assert.equal(ours.length, settings.size * settings.size * settings.channels);
          assert.equal(theirs.length, ours.length);
          const d = meanAbsDiff(ours, theirs);
          // Not 0: sharp shrinks a JPEG by a power of two while decoding it, then resamples with
          // Lanczos; Skia decodes it whole and filters it down its own way. The finer the detail,
          // the larger the difference: the bound is a little above the square photo's.
          assert.ok(d < 3, `${f} ${JSON.stringify(settings)}: mean difference ${d.toFixed(2)} of 255`);
        }
      } finally {
        await skia.close();
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
    const skia = new JpegDecoders(settings, 1);
    try {
      for (let orientation = 1; orientation <= 8; orientation++) {
        const f = join(scratch, `orientation-${orientation}.jpg`);
        await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).withMetadata({ orientation }).jpeg({ quality: 95 }).toFile(f);
        const ours = await skia.decode(f, await header(f));
        assert.ok(ours, `orientation ${orientation}: left to sharp`);
        // Resampling alone differs by about one level; a wrong turn or mirror by about a hundred.
        const d = meanAbsDiff(ours, await decodeImage(f, settings));
        assert.ok(d < 2, `orientation ${orientation}: mean difference ${d.toFixed(2)} of 255`);
      }
    } finally {
      await skia.close();
    }
  });

  it('only small RGB or grey JPEGs go to Skia', async () => {
    const png = join(scratch, 'flat.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).png().toFile(png);
    const cmyk = join(scratch, 'cmyk.jpg');
    await sharp(await readFile(await photo('rgb.jpg', 64, 64, 5))).toColourspace('cmyk').jpeg().toFile(cmyk);
    const grey = join(scratch, 'grey.jpg');
    await sharp(await readFile(join(scratch, 'rgb.jpg'))).toColourspace('b-w').jpeg().toFile(grey);
    const large = await photo('large.jpg', 1024, 768, 6);
    const goes = async (f: string) => skiaDecodes(await header(f));
    assert.deepEqual(await Promise.all([join(scratch, 'rgb.jpg'), grey, png, cmyk, large].map(goes)), [true, true, false, false, false]);
  });

  it('a truncated JPEG, and one whose size is not its header\'s, are left to sharp', async () => {
    const whole = await readFile(await photo('whole.jpg', 128, 128, 7));
    const cut = join(scratch, 'cut.jpg');
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.9)));
    const skia = new JpegDecoders({ size: 32, channels: 3, resize: 'crop' }, 1);
    try {
      assert.equal(await skia.decode(cut, { width: 128, height: 128 }), undefined);
      await assert.rejects(decodeImage(cut, { size: 32, channels: 3, resize: 'crop' }));
      assert.equal(await skia.decode(join(scratch, 'whole.jpg'), { width: 128, height: 64 }), undefined);
      assert.equal(await skia.decode(join(scratch, 'missing.jpg'), { width: 128, height: 128 }), undefined);
    } finally {
      await skia.close();
    }
  });

  it('the loader lists a truncated JPEG as a bad image, by name', async () => {
    const d = join(scratch, 'folder');
    for (const c of ['a', 'b']) for (let i = 0; i < 3; i++) await photo(`folder/${c}/${i}.jpg`, 64, 64, i);
    const whole = await readFile(join(d, 'a', '0.jpg'));
    await writeFile(join(d, 'a', 'cut.jpg'), whole.subarray(0, Math.floor(whole.length * 0.9)));
    const f = await loadImageFolder(d, { cacheDir: join(scratch, 'cache'), skipBadImages: true, imageSize: 32 });
    assert.deepEqual(f.skipped.map((b) => b.path.split('/').slice(-2).join('/')), ['a/cut.jpg']);
    assert.equal(f.train.count + f.test.count, 6);
  });
});

describe('a JPEG thread that stops', () => {
  for (const [how, code] of [['throws', "throw new Error('boom')"], ['exits', 'process.exit(3)']] as const) {
    it(`${how}: its files fail by name, later ones too, and close still ends every thread`, async () => {
      const script = join(scratch, `${how}.mjs`);
      await writeFile(script, `import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { ${code}; });\n`);
      const skia = new JpegDecoders({ size: 32, channels: 3, resize: 'crop' }, 2, pathToFileURL(script));
      try {
        await assert.rejects(skia.decode('/photos/one.jpg', { width: 8, height: 8 }), /\/photos\/one\.jpg: the JPEG decoding thread stopped/);
        await assert.rejects(skia.decode('/photos/two.jpg', { width: 8, height: 8 }), /\/photos\/two\.jpg: the JPEG decoding thread stopped/);
      } finally {
        await skia.close();
      }
    });
  }
});
