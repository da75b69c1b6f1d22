/**
 * @file The browser harness works: headless chromium gives a page, and a module worker in it (where
 * the web page trains), a WebGPU adapter whose compute shader doubles 1024 numbers exactly, and a
 * file the page offers with `<a download>` lands in the folder the test chose.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { captureDownloads, collectPageErrors, launchBrowser, needChromium } from './browser.js';

/** Doubles 0..1023 on the GPU; the same module runs in the page and in the worker. */
const gpuModule = `
export async function doubleOnGpu() {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { error: 'no adapter' };
  const device = await adapter.requestDevice();
  const n = 1024;
  const data = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(data, 0, Float32Array.from({ length: n }, (_, i) => i));
  const module = device.createShaderModule({ code: \`
    @group(0) @binding(0) var<storage, read_write> x: array<f32>;
    @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) { x[id.x] = 2.0 * x[id.x]; }\` });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: data } }] }));
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  encoder.copyBufferToBuffer(data, 0, read, 0, n * 4);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const result = Array.from(new Float32Array(read.getMappedRange()));
  device.destroy();
  return { architecture: adapter.info.architecture, result };
}`;

const files: Record<string, { type: string; body: string }> = {
  '/': {
    type: 'text/html',
    body: `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>running</title>
<a id="save" download="weights.txt">save</a>
<script type="module">
import { doubleOnGpu } from './gpu.js';
const page = await doubleOnGpu().catch((e) => ({ error: String(e) }));
const worker = await new Promise((resolve) => {
  const w = new Worker('./worker.js', { type: 'module' });
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => resolve({ error: e.message });
});
document.getElementById('save').href = URL.createObjectURL(new Blob(['1 2 3\\n']));
window.outcome = { secure: isSecureContext, page, worker };
document.title = 'done';
</script>`,
  },
  '/gpu.js': { type: 'text/javascript', body: gpuModule },
  '/worker.js': {
    type: 'text/javascript',
    body: `import { doubleOnGpu } from './gpu.js';
doubleOnGpu().then(postMessage, (e) => postMessage({ error: String(e) }));`,
  },
};

let server: Server | undefined;
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  server?.close();
});

/** The test page, loaded and finished, with what went wrong in it. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://localhost').pathname];
    response.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain' });
    response.end(file?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  browser = await launchBrowser();
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction('document.title === "done"', { timeout: 20_000 });
  return { page, errors };
}

type GpuOutcome = { error?: string; architecture?: string; result?: number[] };

it('a page and its module worker get a WebGPU adapter in headless chromium, and a download is saved', async (t: TestContext) => {
  if (!needChromium(t)) return;
  const { page, errors } = await openPage();
  const outcome = (await page.evaluate('window.outcome')) as { secure: boolean; page: GpuOutcome; worker: GpuOutcome };
  const doubled = Array.from({ length: 1024 }, (_, i) => 2 * i);
  assert.equal(outcome.secure, true, 'localhost is a secure context');
  for (const where of ['page', 'worker'] as const) {
    assert.equal(outcome[where].error, undefined, `${where}: ${outcome[where].error}\n${errors.join('\n')}`);
    assert.equal(outcome[where].architecture, 'swiftshader', where);
    assert.deepEqual(outcome[where].result, doubled, where);
  }

  const folder = await mkdtemp(join(tmpdir(), 'kilosecond-downloads-'));
  try {
    const downloads = await captureDownloads(page, folder);
    await page.click('#save');
    const path = await downloads.next();
    assert.equal(path, join(folder, 'weights.txt'));
    assert.equal(await readFile(path, 'utf8'), '1 2 3\n');
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  assert.deepEqual(errors, []);
});
