// The web page's training speed beside Node's on the same GPU (issue 24): one fast-recipe run on a
// generated folder of 32x32 images, in headless Chromium through `kilosecond web` (WebGPU in a
// browser worker) and with `kilosecond train DIR --backend webgpu` (Dawn); the training epochs'
// images per second side by side, from the page's metrics and the run's metrics.jsonl.
//
//   node src/bench/gpu/page.mjs [--width 64] [--epochs 2] [--per-class 512] [--software] [--json FILE]
//
// Needs dist/ (npm run build, which builds the page too), node_modules (puppeteer-core, pngjs) and
// a Chromium (CHROMIUM_PATH, default /usr/bin/chromium). --software pins Chromium to SwiftShader
// (a machine without a GPU: a smoke figure only, with VK_ICD_FILENAMES pointing Dawn at the same
// SwiftShader); without it Chromium uses the GPU through Vulkan.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import puppeteer from 'puppeteer-core';
import { startWebServer } from '../../../dist/cli/web.js';

const { values: o } = parseArgs({
  options: {
    width: { type: 'string', default: '64' },
    epochs: { type: 'string', default: '2' },
    'per-class': { type: 'string', default: '512' },
    software: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const width = Number(o.width);
const epochs = Number(o.epochs);
const perClass = Number(o['per-class']);
const classes = 10;
const side = 32;

/** A folder of `classes` classes (train/ and test/), each a colour and a stripe angle, with noise: learnable, not trivial. */
function writeFolder(root) {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const [split, count] of [['train', perClass], ['test', Math.max(8, perClass >> 3)]]) {
    for (let c = 0; c < classes; c++) {
      const dir = join(root, split, `class${c}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < count; i++) {
        const png = new PNG({ width: side, height: side });
        const angle = (Math.PI * c) / classes;
        for (let y = 0; y < side; y++) {
          for (let x = 0; x < side; x++) {
            const stripe = Math.sin((x * Math.cos(angle) + y * Math.sin(angle)) * 0.8 + random()) > 0 ? 1 : 0;
            const k = 4 * (y * side + x);
            png.data[k] = (c * 37 + 80 * stripe + 60 * random()) & 255;
            png.data[k + 1] = (c * 91 + 50 * stripe + 60 * random()) & 255;
            png.data[k + 2] = (c * 53 + 70 * (1 - stripe) + 60 * random()) & 255;
            png.data[k + 3] = 255;
          }
        }
        writeFileSync(join(dir, `${i}.png`), PNG.sync.write(png));
      }
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** The training speed of a run: the median epoch's images/s, the first (warm-up: shader compilation) left out when there are more. */
const speedOf = (records) => median((records.length > 1 ? records.slice(1) : records).map((r) => r.images_per_second));

async function inChromium(folder) {
  const server = await startWebServer({ port: 0 });
  const args = [
    '--enable-unsafe-webgpu',
    ...(o.software ? ['--use-webgpu-adapter=swiftshader'] : ['--enable-features=Vulkan', '--use-angle=vulkan']),
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ];
  // No protocol timeout: a long wait is one call into the page that lasts as long as training (puppeteer's default is 180 s).
  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args, protocolTimeout: 0 });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => (m.type() === 'error' ? console.error(`page: ${m.text()}`) : undefined));
    await page.goto(server.url);
    const input = await page.$('[data-testid="folder-input"]');
    await input.uploadFile(folder);
    await page.waitForSelector('[data-testid="start"]:not([disabled])', { timeout: 600_000 });
    await page.select('[data-testid="width"]', String(width));
    await page.$eval('[data-testid="epochs"]', (e, v) => { e.value = v; }, String(epochs));
    await page.$eval('[data-testid="budget"]', (e) => { e.value = '100000'; });
    await page.click('[data-testid="start"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="results"]').hidden || document.querySelector('[data-testid="status"]').dataset.kind === 'error',
      { timeout: 3_600_000, polling: 1000 });
    const failed = await page.$eval('[data-testid="status"]', (e) => (e.dataset.kind === 'error' ? e.textContent : null));
    if (failed) throw new Error(`the page: ${failed}`);
    const history = await page.$eval('[data-testid="history"]', (e) => e.textContent);
    return { records: history.trim().split('\n').map((l) => JSON.parse(l)) };
  } finally {
    await browser.close();
    await server.close();
  }
}

function inNode(folder, out) {
  const run = spawnSync(process.execPath, ['dist/cli/main.js', 'train', folder, '--backend', 'webgpu', '--recipe', 'fast', '--width', String(width), '--epochs', String(epochs),
    '--augment', 'online', '--batch-size', '1024', '--out', out, '--no-report'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`kilosecond train failed (exit ${run.status}):\n${run.stdout}`);
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

const dir = mkdtempSync(join(tmpdir(), 'kilosecond-page-bench-'));
try {
  const folder = join(dir, 'generated');
  writeFolder(folder);
  const node = inNode(folder, join(dir, 'run'));
  const page = await inChromium(folder);
  const result = {
    width, epochs, train_images: classes * perClass, software: o.software,
    node_images_per_second: speedOf(node), page_images_per_second: speedOf(page.records),
    node_test_accuracy: node.at(-1).test_accuracy, page_test_accuracy: page.records.at(-1).test_accuracy,
  };
  result.page_over_node = result.page_images_per_second / result.node_images_per_second;
  console.log(JSON.stringify(result));
  console.log(`fast recipe, width ${width}, ${epochs} epochs of ${classes * perClass} images: page ${result.page_images_per_second.toFixed(1)} img/s, ` +
    `Node/Dawn ${result.node_images_per_second.toFixed(1)} img/s (page / Node ${result.page_over_node.toFixed(2)}x)${o.software ? ' on SwiftShader: a smoke figure' : ''}`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(result)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
