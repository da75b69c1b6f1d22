/**
 * @file Driving a real browser from tests: Debian's chromium, headless, through puppeteer-core
 * (which never downloads a browser), with WebGPU on SwiftShader, the CPU Vulkan driver that the
 * chromium package carries, so that a page which trains on WebGPU is tested on a machine without
 * a GPU. Pages must come from http://localhost or http://127.0.0.1: WebGPU needs a secure context.
 * Without chromium a test skips, except under CI, which installs it (.ci/run).
 */
import { strict as assert } from 'node:assert';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page, type Protocol } from 'puppeteer-core';

/** The browser: `CHROMIUM_PATH`, or Debian's launcher script. */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** True when the browser can be started. */
export function chromiumAvailable(): boolean {
  try {
    accessSync(chromiumPath, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when chromium is installed; otherwise skips the test (fails it under CI). */
export function needChromium(t: { skip(reason: string): void }): boolean {
  if (chromiumAvailable()) return true;
  if (process.env.CI) assert.fail(`no browser at ${chromiumPath}: CI must install chromium`);
  t.skip(`no browser at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return false;
}

/** The command-line flags, besides puppeteer's own (which include `--headless=new`). */
export function chromiumFlags(): string[] {
  return [
    // WebGPU is off by default on Linux (and for a software adapter): without this flag
    // navigator.gpu exists but requestAdapter() resolves null ("No available adapters").
    '--enable-unsafe-webgpu',
    // Use SwiftShader even where there is a GPU, so that a test computes the same numbers on
    // every machine. Without a GPU chromium picks it anyway (as a fallback adapter).
    '--use-webgpu-adapter=swiftshader',
    // Chromium refuses to start as root with its sandbox ("Running as root without --no-sandbox
    // is not supported"); CI runs as root. Any other user keeps the sandbox.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ];
}

/**
 * Starts headless chromium with WebGPU (about half a second). Close it in `after`, or the test
 * process stays alive. `args` are extra flags.
 */
export function launchBrowser(args: string[] = []): Promise<Browser> {
  return puppeteer.launch({ executablePath: chromiumPath, headless: true, args: [...chromiumFlags(), ...args] });
}

/**
 * What goes wrong in a page, as lines to print when a test fails: console errors and warnings
 * (WebGPU validation errors are warnings), uncaught exceptions, and failed requests. A worker's
 * console messages and uncaught errors reach the page's events too, so they are here.
 */
export function collectPageErrors(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => {
    const type = message.type();
    if (type === 'error' || type === 'warn') lines.push(`console.${type}: ${message.text()}`);
  });
  page.on('pageerror', (error) => lines.push(`uncaught: ${error instanceof Error ? error.message : String(error)}`));
  page.on('requestfailed', (request) => lines.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('error', (error) => lines.push(`page crashed: ${error.message}`));
  return lines;
}

/** The files that a page's downloads (such as `<a download>`) save into a folder. */
export interface Downloads {
  /** The path of the next download to finish, in the order they finish; rejects if it is canceled. */
  next(): Promise<string>;
}

/**
 * Saves the downloads of the page's browser context into `folder` (which must exist), under the
 * names the page suggests (chromium adds " (1)" to a name already there). Call before the click.
 */
export async function captureDownloads(page: Page, folder: string): Promise<Downloads> {
  const session = await page.browser().target().createCDPSession();
  const settled: Promise<string>[] = [];
  const waiting: ((result: Promise<string>) => void)[] = [];
  const names = new Map<string, string>();
  const settle = (result: Promise<string>): void => {
    result.catch(() => {}); // handled by whoever calls next()
    const waiter = waiting.shift();
    if (waiter) waiter(result);
    else settled.push(result);
  };
  session.on('Browser.downloadWillBegin', (event: Protocol.Browser.DownloadWillBeginEvent) => {
    names.set(event.guid, event.suggestedFilename);
  });
  session.on('Browser.downloadProgress', (event: Protocol.Browser.DownloadProgressEvent) => {
    const name = names.get(event.guid) ?? event.guid;
    if (event.state === 'completed') settle(Promise.resolve(event.filePath ?? join(folder, name)));
    else if (event.state === 'canceled') settle(Promise.reject(new Error(`download of ${name} canceled`)));
  });
  const browserContextId = page.browserContext().id;
  await session.send('Browser.setDownloadBehavior', {
    behavior: 'allow',
    downloadPath: folder,
    eventsEnabled: true,
    ...(browserContextId ? { browserContextId } : {}),
  });
  return {
    next: () => settled.shift() ?? new Promise<string>((resolve, reject) => waiting.push((result) => result.then(resolve, reject))),
  };
}
