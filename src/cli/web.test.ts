/**
 * @file The web page (`kilosecond web`) works in a browser as a user drives it: Debian's chromium,
 * headless, through puppeteer-core, with WebGPU on SwiftShader (testing/browser.ts), the page
 * served by startWebServer over http://localhost (WebGPU needs a secure context). A generated
 * folder of four easy classes is chosen through the folder input and trained at width 8 for three
 * epochs: the page must draw its curves as it trains, refuse another folder while it does, report
 * a test accuracy, and offer a model.safetensors that `kilosecond predict` reads to the page's
 * accuracy on the same test images, and a model.onnx that ONNX Runtime runs to predict's logits.
 * A folder dropped on the page is read whole, and folders a user gets wrong (one class, files
 * that are not images, a broken image) are said on the page. The server serves the built page
 * and nothing else. The finished page's screenshot is kept as test-artifacts/web-page.png.
 *
 * SwiftShader trains the airbench network at width 8 at about 2 images/s on two cores, so the
 * folder is small (16 training and 8 test images a class, so batches of 16, four an epoch): the
 * run takes about two minutes.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it, type TestContext } from 'node:test';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'puppeteer-core';
import { rngFor, Stream } from '../data/prng.js';
import { captureDownloads, chromiumAvailable, collectPageErrors, launchBrowser, needChromium } from '../testing/browser.js';
import { runCli } from '../testing/cli.js';
import { repoRoot } from '../testing/paths.js';
import { startWebServer, type WebServer } from './web.js';

const side = 32;
/** The classes, told apart by colour; in sorted order, as the page numbers them. */
const colours: Record<string, [number, number, number]> = { blue: [40, 60, 220], green: [40, 190, 60], red: [220, 40, 40], yellow: [230, 210, 40] };
const classes = Object.keys(colours);

interface WrittenImage {
  path: string;
  label: number;
  /** side x side x 3, as written. */
  pixels: Uint8Array;
}

/**
 * `count` PNGs of each of `names` in dir/<class>/: the class's colour, but each image its own,
 * with a brightness, a darker square somewhere and per-pixel noise drawn from `seed`.
 */
function writeClassImages(dir: string, count: number, seed: number, names: readonly string[] = classes): WrittenImage[] {
  const written: WrittenImage[] = [];
  for (const name of names) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      const rng = rngFor(seed, classes.indexOf(name), i, Stream.Augment);
      const brightness = 0.9 + 0.2 * rng.nextFloat();
      const [x0, y0] = [rng.nextInt(side - 8), rng.nextInt(side - 8)];
      const png = new PNG({ width: side, height: side });
      const pixels = new Uint8Array(side * side * 3);
      for (let p = 0; p < side * side; p++) {
        const [x, y] = [p % side, Math.floor(p / side)];
        const shade = x >= x0 && x < x0 + 8 && y >= y0 && y < y0 + 8 ? 0.7 : 1;
        for (let c = 0; c < 3; c++) {
          const v = Math.round(colours[name]![c]! * brightness * shade + 40 * (rng.nextFloat() - 0.5));
          pixels[3 * p + c] = png.data[4 * p + c] = Math.max(0, Math.min(255, v));
        }
        png.data[4 * p + 3] = 255;
      }
      const path = join(dir, name, `${String(i).padStart(2, '0')}.png`);
      writeFileSync(path, PNG.sync.write(png));
      written.push({ path, label: classes.indexOf(name), pixels });
    }
  }
  return written;
}

let dir: string;
let server: WebServer | undefined;
let browser: Browser | undefined;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilosecond-web-'));
  if (!chromiumAvailable()) return;
  server = await startWebServer({ port: 0 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const byTestId = (id: string): string => `[data-testid="${id}"]`;
/** The element as an expression evaluated in the page (the tests compile without the DOM's types). */
const element = (id: string): string => `document.querySelector('${byTestId(id)}')`;
const evaluate = async <T>(page: Page, expression: string): Promise<T> => (await page.evaluate(expression)) as T;
const textOf = (page: Page, id: string): Promise<string> => evaluate(page, `${element(id)}.textContent`);

interface OpenPage {
  page: Page;
  /** What went wrong in the page (testing/browser.ts). */
  errors: string[];
}

/**
 * A new tab on the page. Every status line it shows is kept in `window.statusLog`: a training
 * run's next message replaces one within a step, which may be before the test reads it.
 */
async function openPage(): Promise<OpenPage> {
  const page = await browser!.newPage();
  const errors = collectPageErrors(page);
  await page.goto(server!.url);
  await page.evaluate(`{
    const status = ${element('status')};
    window.statusLog = [];
    new MutationObserver(() => window.statusLog.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
  }`);
  return { page, errors };
}

/** Waits for `expression` to hold in the page; a timeout says what the page said and what went wrong in it. */
async function waitUntil(open: OpenPage, expression: string, timeoutMs: number): Promise<void> {
  try {
    await open.page.waitForFunction(expression, { timeout: timeoutMs, polling: 100 });
  } catch (err) {
    const said = await textOf(open.page, 'status').catch(() => '(the page is gone)');
    throw new Error(`${(err as Error).message}, waiting for ${expression}; the status line says '${said}'${open.errors.length > 0 ? `; in the page:\n${open.errors.join('\n')}` : ''}`);
  }
}

/** Chooses `folder` in the folder input, as a user does. */
async function chooseFolder(open: OpenPage, folder: string): Promise<void> {
  // A folder's path is what a webkitdirectory input takes (the tests compile without the DOM's HTMLInputElement).
  const input = (await open.page.$(byTestId('folder-input'))) as unknown as { uploadFile(...paths: string[]): Promise<void> };
  await input.uploadFile(folder);
}

/** Chooses `folder` and waits until the page has read it (or refused it). */
async function chooseAndRead(open: OpenPage, folder: string): Promise<void> {
  await chooseFolder(open, folder);
  await waitUntil(open, `!${element('start')}.disabled || ${element('status')}.dataset.kind === 'error'`, 30_000);
}

const statusLog = (page: Page): Promise<string[]> => evaluate(page, 'window.statusLog');

it('serves the built page\'s files and nothing else', async () => {
  const local = await startWebServer({ port: 0 });
  try {
    assert.match(local.url, /^http:\/\/localhost:\d+\/$/, 'localhost: a secure context, where WebGPU is allowed');
    // The path as sent, not normalised by a URL parser on this side.
    const get = (path: string, method = 'GET') => new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      request(new URL(local.url), { path, method }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'] ?? '', body }));
      }).on('error', reject).end();
    });
    const index = await get('/');
    assert.equal(index.status, 200);
    assert.match(index.type, /^text\/html/);
    assert.match(index.body, /data-testid="folder-input"/);
    for (const file of ['/page.js', '/decode-worker.js', '/train-worker.js']) assert.match((await get(file)).type, /^text\/javascript/, file);
    for (const path of ['/favicon.ico', '/../package.json', '/%2e%2e/cli/web.js', '/web/index.html']) assert.equal((await get(path)).status, 404, path);
    assert.equal((await get('/', 'POST')).status, 404);
  } finally {
    await local.close();
  }
});

it('trains a chosen folder on WebGPU, draws its curves, and offers a model that predict and ONNX Runtime agree with', { timeout: 8 * 60_000 }, async (t: TestContext) => {
  if (!needChromium(t)) return;
  const folder = join(dir, 'colours');
  writeClassImages(join(folder, 'train'), 16, 1);
  const testImages = writeClassImages(join(folder, 'test'), 8, 2);
  const open = await openPage();
  const { page, errors } = open;
  await chooseAndRead(open, folder);
  assert.match(await textOf(page, 'data-summary'), /^colours: 4 classes, 64 training images and 32 test images \(the folder's own test split\), read at 32x32\.$/);
  const counts = await evaluate<string[][]>(page, `[...${element('class-counts')}.rows].map((r) => [...r.cells].map((c) => c.textContent))`);
  assert.deepEqual(counts, [['class', 'training images', 'test images'], ...classes.map((c) => [c, '16', '8'])]);

  await page.click('details > summary'); // the settings are folded away
  await page.locator(byTestId('width')).fill('8');
  await page.locator(byTestId('epochs')).fill('3');
  await page.locator(byTestId('budget')).fill('600');
  const started = Date.now();
  await page.click(byTestId('start'));

  // Training: the first running loss and accuracy are drawn within the first epoch.
  await waitUntil(open, `Number(${element('curves')}.dataset.points) > 0`, 3 * 60_000);
  const pointsWhileTraining = Number(await evaluate<string>(page, `${element('curves')}.dataset.points`));
  // A second run cannot start: the button is disabled, and a folder chosen now is refused, said in the status line.
  assert.equal(await evaluate<boolean>(page, `${element('start')}.disabled`), true, 'the start button is disabled while a run trains');
  await chooseFolder(open, folder);
  await waitUntil(open, 'window.statusLog.some((s) => s.startsWith("A training run is already going"))', 5_000);

  await waitUntil(open, `!${element('results')}.hidden || ${element('status')}.dataset.kind === 'error'`, 6 * 60_000);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(await evaluate<string | undefined>(page, `${element('status')}.dataset.kind`), 'info', await textOf(page, 'status'));
  assert.ok(Number(await evaluate<string>(page, `${element('curves')}.dataset.points`)) > pointsWhileTraining, 'the curves grew as the run went on');
  const log = await statusLog(page);
  assert.ok(log.some((s) => /^Epoch 3 of 3: test accuracy/.test(s)), `three epochs trained:\n${log.join('\n')}`);
  const summary = await textOf(page, 'test-accuracy');
  assert.match(summary, /^Test accuracy \d+\.\d\d% on 32 test images, trained in \d+ s\.$/);
  const accuracy = Number(await evaluate<string>(page, `${element('test-accuracy')}.dataset.accuracy`));
  const plainAccuracy = Number(await evaluate<string>(page, `${element('test-accuracy')}.dataset.plainAccuracy`));
  // The smoke figures of the page on SwiftShader: each epoch's speed, and the whole run.
  for (const line of log.filter((s) => /trained at/.test(s))) t.diagnostic(line);
  t.diagnostic(`${summary} (${seconds.toFixed(0)} s from the click to the results); without test-time augmentation ${(100 * plainAccuracy).toFixed(2)}%`);
  // Four colours: chance is 25%; 12 steps of batch 16, at the rate scaled to the batch (fit-recipe.ts), reached 94% here.
  assert.ok(plainAccuracy >= 0.85 && accuracy >= 0.85, `test accuracy ${accuracy}, ${plainAccuracy} without test-time augmentation`);
  // Each epoch's metrics, as metrics.jsonl holds them.
  const records = (await textOf(page, 'history')).trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; test_accuracy: number });
  assert.deepEqual(records.map((r) => r.epoch), [1, 2, 3]);
  assert.equal(records[2]!.test_accuracy, accuracy);

  const screenshot = join(repoRoot, 'test-artifacts', 'web-page.png');
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot of the finished page: ${screenshot}`);

  const downloadsDir = join(dir, 'downloads');
  mkdirSync(downloadsDir);
  const downloads = await captureDownloads(page, downloadsDir);
  await page.click(byTestId('download-safetensors'));
  const safetensors = await downloads.next();
  await page.click(byTestId('download-onnx'));
  const onnx = await downloads.next();
  await page.click(byTestId('download-metrics'));
  const metrics = await downloads.next();
  assert.deepEqual([safetensors, onnx, metrics], [join(downloadsDir, 'model.safetensors'), join(downloadsDir, 'model.onnx'), join(downloadsDir, 'metrics.jsonl')]);
  assert.equal(readFileSync(metrics, 'utf8').trim().split('\n').length, 3, 'metrics.jsonl: one line per epoch');

  // predict classifies the PNGs on the CPU, decoding them itself. The page's plain accuracy is the
  // same model's on the same pixels, but WebGPU sums in another order than the CPU backend, so
  // an image the model is unsure of may go either way: one image of slack.
  const { stdout } = await runCli(['predict', safetensors, ...testImages.map((f) => f.path), '--json']);
  const predictions = stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; top: Array<{ class: string }>; logits: number[] });
  assert.deepEqual(predictions.map((p) => p.file), testImages.map((f) => f.path));
  const right = predictions.filter((p, i) => p.top[0]!.class === classes[testImages[i]!.label]).length;
  assert.ok(Math.abs(right - plainAccuracy * testImages.length) <= 1, `predict: ${right} of ${testImages.length} right; the page: ${plainAccuracy * testImages.length}`);

  // The ONNX file (a protobuf ModelProto: field 1, ir_version, a varint) runs in ONNX Runtime to predict's logits: 0..1 NCHW in.
  assert.equal(readFileSync(onnx)[0], 0x08, 'model.onnx starts as an ONNX ModelProto');
  const session = await InferenceSession.create(onnx);
  const hw = side * side;
  const input = new Float32Array(testImages.length * 3 * hw);
  testImages.forEach((f, i) => {
    for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) input[(i * 3 + c) * hw + p] = f.pixels[3 * p + c]! / 255;
  });
  const { logits } = await session.run({ images: new OrtTensor('float32', input, [testImages.length, 3, side, side]) });
  const onnxLogits = logits!.data as Float32Array;
  predictions.forEach((p, i) => {
    const scale = Math.max(...p.logits.map(Math.abs));
    p.logits.forEach((v, c) => assert.ok(Math.abs(v - onnxLogits[i * classes.length + c]!) <= 1e-4 * scale, `${p.file} class ${c}: predict ${v}, ONNX ${onnxLogits[i * classes.length + c]}`));
  });
  await session.release();

  assert.deepEqual(errors, [], `in the page:\n${errors.join('\n')}`);
  await page.close();
});

it('a folder dropped on the page is read whole: past the 100 entries a directory reader gives at a time', async (t: TestContext) => {
  if (!needChromium(t)) return;
  const folder = join(dir, 'dropped');
  writeClassImages(folder, 130, 6, ['blue', 'red']);
  const open = await openPage();
  const zone = (await open.page.$(byTestId('drop-zone')))!;
  const box = (await zone.boundingBox())!;
  // A drag from the desktop, as the browser gets one: files (here a folder) over the drop zone, then dropped.
  const session = await open.page.createCDPSession();
  const drag = { x: box.x + box.width / 2, y: box.y + box.height / 2, data: { items: [], files: [folder], dragOperationsMask: 1 } };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await session.send('Input.dispatchDragEvent', { type, ...drag });
  await waitUntil(open, `!${element('start')}.disabled || ${element('status')}.dataset.kind === 'error'`, 30_000);
  assert.match(await textOf(open.page, 'data-summary'), /^dropped: 2 classes, 234 training images and 26 test images \(10% of each class held out\)/);
  assert.deepEqual(open.errors, []);
  await open.page.close();
});

it('a folder with one class is refused: a classifier needs two', async (t: TestContext) => {
  if (!needChromium(t)) return;
  const folder = join(dir, 'one-class');
  writeClassImages(folder, 5, 3, ['red']);
  const open = await openPage();
  await chooseAndRead(open, folder);
  assert.equal(await evaluate<string>(open.page, `${element('status')}.dataset.kind`), 'error');
  assert.match(await textOf(open.page, 'status'), /^one-class: only one class folder \('red'\); a classifier needs at least two classes/);
  assert.equal(await evaluate<boolean>(open.page, `${element('start')}.disabled`), true);
  assert.deepEqual(open.errors, []);
  await open.page.close();
});

it('files that are not images by name are counted as left out', async (t: TestContext) => {
  if (!needChromium(t)) return;
  const folder = join(dir, 'with-notes');
  writeClassImages(folder, 5, 4, ['blue', 'red']);
  writeFileSync(join(folder, 'notes.txt'), 'not a class\n');
  writeFileSync(join(folder, 'red', 'readme.md'), 'not an image\n');
  const open = await openPage();
  await chooseAndRead(open, folder);
  assert.match(await textOf(open.page, 'data-summary'), /^with-notes: 2 classes, 8 training images and 2 test images \(10% of each class held out\), read at 32x32; 2 files left out that are not images\.$/);
  assert.equal(await evaluate<boolean>(open.page, `${element('start')}.disabled`), false);
  assert.deepEqual(open.errors, []);
  await open.page.close();
});

it('a file named as an image that is not one is left out, and the warning says so', async (t: TestContext) => {
  if (!needChromium(t)) return;
  const folder = join(dir, 'with-broken');
  writeClassImages(folder, 5, 5, ['blue', 'red']);
  writeFileSync(join(folder, 'red', 'broken.png'), 'these bytes are no PNG\n');
  const open = await openPage();
  await chooseAndRead(open, folder);
  assert.match(await textOf(open.page, 'warning'), /^1 file could not be decoded and is left out: with-broken\/red\/broken\.png: cannot be decoded as an image/);
  assert.equal(await evaluate<boolean>(open.page, `${element('warning')}.hidden`), false);
  assert.match(await textOf(open.page, 'data-summary'), /^with-broken: 2 classes, \d+ training images and \d+ test images/);
  assert.equal(await evaluate<boolean>(open.page, `${element('start')}.disabled`), false);
  assert.deepEqual(open.errors, []);
  await open.page.close();
});
