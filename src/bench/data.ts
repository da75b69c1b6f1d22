/**
 * @file `bench data`: how fast the data pipeline is, on generated data (so it runs anywhere).
 *
 * For CIFAR-10-sized (32x32x3) and MNIST-sized (28x28x1) records: precompute throughput (augment +
 * encode + write shards), shard read + decode + normalise throughput (in the calling thread, and
 * through the streaming loader's worker), online augmentation throughput (1 and 2 workers), and
 * the share of a simulated training step spent waiting for the next batch. Goal: reading at
 * least 50,000 CIFAR-sized images/s; waiting under 1% of a step.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultAugment } from '../data/augment.js';
import { datasetInfo, type DatasetInfo, type ImageSet } from '../data/datasets.js';
import { createTrainLoader, type TrainLoaderOptions } from '../data/loader.js';
import { precompute } from '../data/precompute.js';

export interface DataBenchOptions {
  /** Images per generated training set. */
  images: number;
  batchSize: number;
  /** Simulated training step for the wait measurement, in ms. */
  stepMs: number;
  /** Print the table to stdout (default true). */
  print?: boolean;
}

export interface DataBenchRow {
  records: string;
  precompute_img_s: number;
  read_in_thread_img_s: number;
  read_worker_img_s: number;
  online_1_worker_img_s: number;
  online_2_workers_img_s: number;
  /** Time spent waiting for batches / total time, with a step of `stepMs` per batch, read from shards. */
  step_wait_fraction: number;
}

export interface DataBenchResult { rows: DataBenchRow[]; load_before: number[]; load_after: number[]; step_ms: number; images: number; batch_size: number }

function generatedSet(info: DatasetInfo, count: number): ImageSet {
  const bytes = info.height * info.width * info.channels;
  const images = new Uint8Array(count * bytes);
  // A cheap LCG: image-like enough for throughput, not compressible to nothing.
  let s = 12345;
  for (let i = 0; i < images.length; i++) images[i] = (s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 24;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, height: info.height, width: info.width, channels: info.channels };
}

/** Images per second of one full epoch through a loader. */
async function loaderRate(opts: TrainLoaderOptions): Promise<number> {
  const loader = createTrainLoader(opts);
  try {
    for await (const b of loader.epoch(0)) if (b.size === 0) break; // warm-up: worker start, first shard
    const t0 = performance.now();
    let n = 0;
    for await (const b of loader.epoch(1)) n += b.size;
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await loader.close();
  }
}

/**
 * Fraction of wall time spent waiting for the next batch while a step of `stepMs` runs per batch,
 * over two epochs (so the epoch boundary counts), after the very first batch (worker start-up,
 * paid once per training run).
 */
async function waitFraction(opts: TrainLoaderOptions, stepMs: number): Promise<number> {
  const loader = createTrainLoader(opts);
  try {
    let waited = 0;
    let started = 0;
    for (const e of [0, 1]) {
      const it = loader.epoch(e)[Symbol.asyncIterator]();
      for (;;) {
        const w0 = performance.now();
        const next = await it.next();
        if (started === 0) started = performance.now();
        else waited += performance.now() - w0;
        if (next.done) break;
        await sleep(stepMs);
      }
    }
    return waited / (performance.now() - started);
  } finally {
    await loader.close();
  }
}

async function benchShape(info: DatasetInfo, label: string, o: Required<Omit<DataBenchOptions, 'print'>>, dir: string): Promise<DataBenchRow> {
  const train = generatedSet(info, o.images);
  const out = join(dir, info.name);
  const t0 = performance.now();
  await precompute({ info, train, sources: { generated: 'none' }, outDir: out, epochs: 2, seed: 1, augment: { ...defaultAugment } });
  const precomputeRate = (2 * train.count) / ((performance.now() - t0) / 1000);
  const shards = { mode: 'precomputed' as const, dir: out, info, batchSize: o.batchSize };
  const online = { mode: 'online' as const, info, train, batchSize: o.batchSize, seed: 1 };
  return {
    records: label,
    precompute_img_s: precomputeRate,
    read_in_thread_img_s: await loaderRate({ ...shards, workers: 0 }),
    read_worker_img_s: await loaderRate({ ...shards, workers: 1 }),
    online_1_worker_img_s: await loaderRate({ ...online, workers: 1 }),
    online_2_workers_img_s: await loaderRate({ ...online, workers: 2 }),
    step_wait_fraction: await waitFraction({ ...shards, workers: 1 }, o.stepMs),
  };
}

function formatDataBenchmark(r: DataBenchResult): string {
  const k = (v: number) => `${Math.round(v).toLocaleString('en-US')}`;
  const lines = [
    `load average before: ${r.load_before.map((l) => l.toFixed(2)).join(' ')}; after: ${r.load_after.map((l) => l.toFixed(2)).join(' ')}`,
    `${r.images.toLocaleString('en-US')} generated images per set, batch ${r.batch_size}; images/s unless marked`,
    '',
    '| records | precompute | shard read (in thread) | shard read (worker) | online aug, 1 worker | online aug, 2 workers | step wait (step ' + r.step_ms + ' ms) |',
    '|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.records} | ${k(x.precompute_img_s)} | ${k(x.read_in_thread_img_s)} | ${k(x.read_worker_img_s)} | ${k(x.online_1_worker_img_s)} | ${k(x.online_2_workers_img_s)} | ${(100 * x.step_wait_fraction).toFixed(2)}% |`),
  ];
  return lines.join('\n');
}

export async function runDataBenchmark(o: DataBenchOptions): Promise<DataBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'kilosecond-bench-data-'));
  const loadBefore = loadavg();
  try {
    const rows = [
      await benchShape(datasetInfo('cifar10'), 'CIFAR-10 32x32x3', o, dir),
      await benchShape(datasetInfo('mnist'), 'MNIST 28x28x1', o, dir),
    ];
    const result = { rows, load_before: loadBefore, load_after: loadavg(), step_ms: o.stepMs, images: o.images, batch_size: o.batchSize };
    if (o.print !== false) process.stdout.write(`${formatDataBenchmark(result)}\n`);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
