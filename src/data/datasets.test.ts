import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { UserError } from '../core/errors.js';
import { sharedDir } from '../testing/paths.js';
import { datasetInfo } from './datasets.js';
import { loadDataset } from './load-dataset.js';
import { encodeIdx } from './idx.js';
import { searchFolders } from './sources.js';

const mnistDir = join(sharedDir, 'data', 'mnist');
import { debianFashionMnist as debianFashion } from '../testing/needs.js';
let scratch: string;

before(async () => { scratch = await mkdtemp(join(tmpdir(), 'kilosecond-datasets-')); });
after(async () => { await rm(scratch, { recursive: true, force: true }); });

function histogram(labels: Uint8Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]!++;
  return h;
}

test('datasetInfo knows the three datasets and names them when asked for another', () => {
  assert.deepEqual([datasetInfo('cifar10').height, datasetInfo('cifar10').channels, datasetInfo('mnist').mean], [32, 3, [0.1307]]);
  assert.throws(() => datasetInfo('imagenet'), (e) => e instanceof UserError && /mnist, fashion-mnist, cifar10/.test(e.message));
});

test('the real MNIST test set loads from --data-dir: count, shape, checksums, 1000ish per class', async () => {
  const { test: set, train, sources } = await loadDataset('mnist', { split: 'test', dataDir: mnistDir, download: false });
  assert.equal(train, undefined);
  assert.equal(set!.count, 10000);
  assert.equal(set!.images.length, 10000 * 28 * 28);
  assert.deepEqual([set!.height, set!.width, set!.channels], [28, 28, 1]);
  assert.deepEqual(sources, { 't10k-images-idx3-ubyte.gz': '2646ac647ad5339dbf082846283269ea', 't10k-labels-idx1-ubyte.gz': '27ae3e4e09519cfbb04c329615203637' });
  // MNIST's test set is not balanced; these are its published class counts.
  assert.deepEqual(histogram(set!.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.equal(set!.labels[0], 7); // the famous first test digit
});

test('the real MNIST training set loads verified: 60000 images, the published class counts, first labels', async () => {
  const { train, sources } = await loadDataset('mnist', { split: 'train', dataDir: mnistDir, download: false });
  assert.equal(train!.count, 60000);
  assert.deepEqual(sources, { 'train-images-idx3-ubyte.gz': '6bbc9ace898e44ae57da46a324031adb', 'train-labels-idx1-ubyte.gz': 'a25bea736e30d166cdddb491f175f624' });
  assert.deepEqual(histogram(train!.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual([...train!.labels.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
});

test('Fashion-MNIST loads from the Debian package folder: both splits, 1000 / 6000 per class', { skip: !existsSync(debianFashion) && !process.env['CI'] && 'apt-get install dataset-fashion-mnist (in CI this test fails instead)' }, async () => {
  const { train, test: set, sources } = await loadDataset('fashion-mnist', { cacheDir: join(scratch, 'empty-cache'), download: false });
  assert.equal(train!.count, 60000);
  assert.equal(set!.count, 10000);
  assert.deepEqual(histogram(set!.labels), new Array(10).fill(1000));
  assert.deepEqual(histogram(train!.labels), new Array(10).fill(6000));
  assert.equal(sources['train-images-idx3-ubyte.gz'], 'f4a8712d7a061bf5bd6d2ca38dc4d50a');
  assert.equal(Object.keys(sources).length, 4);
});

test('lookup order: --data-dir alone, else $KILOSECOND_DATA, the cache, the Debian folder', () => {
  assert.deepEqual(searchFolders('fashion-mnist', { dataDir: '/d' }), ['/d']);
  const saved = process.env['KILOSECOND_DATA'];
  process.env['KILOSECOND_DATA'] = '/k';
  try {
    assert.deepEqual(searchFolders('fashion-mnist', { cacheDir: '/c' }), ['/k/fashion-mnist', '/c/fashion-mnist', debianFashion]);
    assert.deepEqual(searchFolders('mnist', { cacheDir: '/c' }), ['/k/mnist', '/c/mnist']);
  } finally {
    if (saved === undefined) delete process.env['KILOSECOND_DATA'];
    else process.env['KILOSECOND_DATA'] = saved;
  }
});

test('$KILOSECOND_DATA is searched, and decompressed or re-compressed copies pass the checksum', async () => {
  const root = join(scratch, 'env');
  await mkdir(join(root, 'mnist'), { recursive: true });
  const images = gunzipSync(await readFile(join(mnistDir, 't10k-images-idx3-ubyte.gz')));
  await writeFile(join(root, 'mnist', 't10k-images-idx3-ubyte'), images);
  await writeFile(join(root, 'mnist', 't10k-labels-idx1-ubyte.gz'), gzipSync(gunzipSync(await readFile(join(mnistDir, 't10k-labels-idx1-ubyte.gz'))), { level: 1 }));
  process.env['KILOSECOND_DATA'] = root;
  try {
    const { test: set } = await loadDataset('mnist', { split: 'test', cacheDir: join(scratch, 'nocache'), download: false });
    assert.equal(set!.count, 10000);
  } finally {
    delete process.env['KILOSECOND_DATA'];
  }
});

/** A folder holding MNIST-named test files with the given bytes. */
async function mnistFolder(name: string, images: Uint8Array, labels: Uint8Array): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(images));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(labels));
  return dir;
}

const tinyImages = (n: number) => encodeIdx([n, 28, 28], new Uint8Array(n * 784).fill(9));
const tinyLabels = (n: number) => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('bad files: checksum, magic, size, label range, truncated and corrupt gzip', async () => {
  const load = (dir: string, verify = false) => loadDataset('mnist', { split: 'test', dataDir: dir, verify, download: false });
  const good = await mnistFolder('good', tinyImages(20), tinyLabels(20));
  assert.equal((await load(good)).test!.count, 20);
  await rejects(load(good, true), /t10k-images-idx3-ubyte\.gz: md5 of the decompressed content is [0-9a-f]{32}, expected 2646ac64.*or pass verify: false to use it anyway$/);

  const magic = tinyImages(20);
  magic[3] = 1;
  await rejects(load(await mnistFolder('magic', magic, tinyLabels(20))), /t10k-images-idx3-ubyte\.gz: wrong IDX magic at byte 0: 0x00000801, expected 0x00000803/);
  await rejects(load(await mnistFolder('size', tinyImages(20).subarray(0, 16 + 784 * 19 + 5), tinyLabels(20))), /wrong IDX size.*20x28x28.*15696 bytes.*14917.*truncated/);
  const labels = tinyLabels(20);
  labels[8 + 13] = 10;
  await rejects(load(await mnistFolder('label', tinyImages(20), labels)), /t10k-labels-idx1-ubyte\.gz: label 10 out of range 0\.\.9 at byte 21 \(record 13\)/);
  await rejects(load(await mnistFolder('count', tinyImages(20), tinyLabels(19))), /19 labels for 20 images/);

  const dir = await mnistFolder('gzip', tinyImages(20), tinyLabels(20));
  const gz = await readFile(join(dir, 't10k-images-idx3-ubyte.gz'));
  await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 20));
  await rejects(load(dir), new RegExp(`t10k-images-idx3-ubyte\\.gz: truncated gzip file: the compressed stream ends at byte ${gz.length - 20}`));
  const corrupt = Buffer.from(gz);
  corrupt[12] ^= 0xff;
  corrupt[13] ^= 0xff;
  await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), corrupt);
  await rejects(load(dir), /t10k-images-idx3-ubyte\.gz: corrupt gzip data (at byte \d+|: it decompresses but fails)/);
  await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), 'not gzip at all');
  await rejects(load(dir), /not a gzip file \(bytes 0-1 are 6e 6f, expected 1f 8b\)/);
});

test('corrupt gzip: the byte offset reported is where the damage is', async () => {
  const { gunzipFile } = await import('./gzip.js');
  // Words from a small vocabulary: Huffman-coded, so damage breaks the code at once (random bytes
  // would be stored uncompressed and only the trailer CRC would notice).
  const words = ['kilo', 'second', 'train', 'mnist', 'cifar', 'augment', 'shard', 'record'];
  let state = 12345;
  const raw = Buffer.from(Array.from({ length: 40000 }, () => words[(state = (state * 1103515245 + 12345) >>> 0) >>> 29]).join(' '));
  const gz = gzipSync(raw);
  const early = Buffer.from(gz);
  early.fill(0xaa, 100, 108);
  assert.throws(() => gunzipFile('x.gz', early), (e: Error) => {
    const offset = Number(/at byte (\d+)/.exec(e.message)![1]);
    assert.ok(offset >= 100 && offset < 140, `offset ${offset}, damage at 100-107`);
    return true;
  });
  // Damage that still decodes is only caught by the CRC in the trailer, and the message says so.
  const late = Buffer.from(gz);
  late.fill(0x00, 5000, 5008);
  assert.throws(() => gunzipFile('x.gz', late), new RegExp(`fails the gzip check \\(CRC or length\\) in the trailer at byte ${gz.length - 8}`));
});

/** Serves files from a map on 127.0.0.1 and counts the requests. */
async function serve(files: Map<string, Buffer>): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url!);
    const body = files.get(req.url!.slice(1));
    if (!body) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, hits };
}

test('missing files are downloaded from a mirror into the cache, with progress, then found there', async () => {
  const files = new Map([['t10k-images-idx3-ubyte.gz', gzipSync(tinyImages(30))], ['t10k-labels-idx1-ubyte.gz', gzipSync(tinyLabels(30))]]);
  const { server, url, hits } = await serve(files);
  try {
    const cacheDir = join(scratch, 'cache');
    const progress: number[] = [];
    const deadMirror = 'http://127.0.0.1:9/';
    const opts = { split: 'test' as const, cacheDir, mirrors: [deadMirror, url], verify: false, onProgress: (d: number, t: number) => progress.push(d / t) };
    const { test: set } = await loadDataset('mnist', opts);
    assert.equal(set!.count, 30);
    assert.deepEqual((await readdir(join(cacheDir, 'mnist'))).sort(), [...files.keys()].sort());
    assert.equal(progress.at(-1), 1);
    assert.equal(hits.length, 2);
    await loadDataset('mnist', opts); // from the cache now
    assert.equal(hits.length, 2);
  } finally {
    server.close();
  }
});

test('a download that fails its checksum leaves nothing in the cache and says what to do', async () => {
  const files = new Map([['t10k-images-idx3-ubyte.gz', gzipSync(tinyImages(30))], ['t10k-labels-idx1-ubyte.gz', gzipSync(tinyLabels(30))]]);
  const { server, url } = await serve(files);
  try {
    const cacheDir = join(scratch, 'cache-bad');
    await rejects(loadDataset('mnist', { split: 'test', cacheDir, mirrors: [url] }), /missing files t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz[\s\S]*md5 of the decompressed content[\s\S]*cache-bad\/mnist/);
    assert.deepEqual(await readdir(join(cacheDir, 'mnist')), []);
  } finally {
    server.close();
  }
});

test('offline: the error lists the files, the folders, and the Debian package for Fashion-MNIST', async () => {
  await rejects(
    loadDataset('fashion-mnist', { dataDir: join(scratch, 'nowhere'), mirrors: ['http://127.0.0.1:9/'] }),
    /missing files train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz[\s\S]*127\.0\.0\.1:9[\s\S]*nowhere[\s\S]*apt-get install dataset-fashion-mnist/,
  );
  await rejects(loadDataset('mnist', { dataDir: join(scratch, 'nowhere'), download: false }), /Downloading is turned off/);
});

test('a copy of the real MNIST test set in a cache folder is found there', async () => {
  const cacheDir = join(scratch, 'cache-real');
  await mkdir(join(cacheDir, 'mnist'), { recursive: true });
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) await copyFile(join(mnistDir, f), join(cacheDir, 'mnist', f));
  const { test: set } = await loadDataset('mnist', { split: 'test', cacheDir, download: false });
  assert.equal(set!.count, 10000);
});

test('a mirror that breaks off mid-file leaves no partial file; the next mirror is used', async () => {
  const files = new Map([['t10k-images-idx3-ubyte.gz', gzipSync(tinyImages(30))], ['t10k-labels-idx1-ubyte.gz', gzipSync(tinyLabels(30))]]);
  const broken = createServer((req, res) => {
    const body = files.get(req.url!.slice(1))!;
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, body.length >> 1), () => res.destroy());
  });
  await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
  const { server, url } = await serve(files);
  try {
    const cacheDir = join(scratch, 'cache-broken');
    const brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/`;
    const { test: set } = await loadDataset('mnist', { split: 'test', cacheDir, mirrors: [brokenUrl, url], verify: false });
    assert.equal(set!.count, 30);
    assert.deepEqual((await readdir(join(cacheDir, 'mnist'))).sort(), [...files.keys()].sort());
    await rm(cacheDir, { recursive: true });
    await rejects(loadDataset('mnist', { split: 'test', cacheDir, mirrors: [brokenUrl], verify: false }), /missing files[\s\S]*127\.0\.0\.1/);
    assert.deepEqual(await readdir(join(cacheDir, 'mnist')), []);
  } finally {
    broken.close();
    server.close();
  }
});
