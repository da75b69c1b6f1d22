/**
 * @file Training batches for the trainer (batch.ts makes the test batches).
 *
 * `createTrainLoader` streams one epoch at a time, from precomputed shards or augmenting online,
 * through worker threads with bounded read-ahead: at most `readAhead` batches are being made or
 * waiting, plus the one the caller holds, whatever the number of epochs. As an epoch ends, the
 * first batches of the next one are already being made (epochs are assumed to come in order;
 * asking for another one just discards them). Batches are produced in
 * the workers and their buffers transferred, never copied. `workers: 0` makes the same batches in
 * the calling thread (tests, debugging).
 *
 * Epoch e of the online mode and epoch e of shards precomputed with the same seed and
 * augmentation hold the same images in the same order.
 */
import { Worker } from 'node:worker_threads';
import { Message, msg, setting, UserError } from '../core/errors.js';
import { noAugment, validateAugment, defaultAugment, type AugmentConfig } from './augment.js';
import { createSource, type BatchSource, type SourceSpec } from './batch-source.js';
import type { Batch } from './batch.js';
import type { DatasetInfo, ImageSet } from './datasets.js';
import type { BatchReply, BatchRequest } from './loader-worker.js';
import { requireManifest } from './manifest.js';

interface CommonLoaderOptions {
  info: DatasetInfo;
  batchSize: number;
  /** Drop the last partial batch of each epoch (default true, as Page's code does). */
  dropLast?: boolean;
  /** Batches made ahead of the caller (default 4). */
  readAhead?: number;
  /** Worker threads (default 1; 0 = make batches in the calling thread). */
  workers?: number;
}

export type TrainLoaderOptions = CommonLoaderOptions & (
  /** Read the shards of `kilosecond precompute` from `dir`. */
  | { mode: 'precomputed'; dir: string }
  /** Augment `train` as batches are made (default augmentation: DavidNet's). */
  | { mode: 'online'; train: ImageSet; augment?: AugmentConfig; seed?: number }
  /** Shuffled `train`, not augmented. */
  | { mode: 'none'; train: ImageSet; seed?: number }
);

export interface TrainLoader {
  epoch(e: number): AsyncIterable<Batch>;
  close(): Promise<void>;
}

/** A copy of the images in shared memory, so that every worker reads the same bytes. */
function shared(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

async function sourceSpec(o: TrainLoaderOptions, withWorkers: boolean): Promise<SourceSpec> {
  const common = { batchSize: o.batchSize, dropLast: o.dropLast ?? true, mean: o.info.mean, std: o.info.std, classes: o.info.classes.length };
  if (o.mode === 'precomputed') {
    const manifest = await requireManifest(o.dir);
    const c = manifest.config;
    if (c.dataset !== o.info.name || c.height !== o.info.height || c.width !== o.info.width || c.channels !== o.info.channels) {
      throw new UserError(`${o.dir}/manifest.json: the shards hold ${c.dataset} (${c.height}x${c.width}x${c.channels}), not ${o.info.name}; point to the right folder or precompute ${o.info.name}`);
    }
    return { ...common, kind: 'shards', dir: o.dir, manifest };
  }
  const set = o.train;
  const augment = o.mode === 'online' ? validateAugment(o.augment ?? { ...defaultAugment }, set.height, set.width) : { ...noAugment };
  return {
    ...common, kind: 'online', images: withWorkers ? shared(set.images) : set.images, labels: set.labels.slice(), count: set.count,
    height: set.height, width: set.width, channels: set.channels, augment, seed: o.seed ?? 0,
  };
}

/** Workers that make batches on request; replies are matched to requests by id. */
class WorkerPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve(b: Batch): void; reject(e: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(spec: SourceSpec, count: number) {
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker(new URL('./loader-worker.js', import.meta.url), { workerData: spec });
      w.on('message', (reply: BatchReply) => this.settle(reply));
      w.on('error', (err) => this.failAll(err));
      w.on('exit', (code) => { if (code !== 0) this.failAll(new Error(`data loader worker exited with code ${code}`)); });
      return w;
    });
  }

  private settle(reply: BatchReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve({ images: reply.images, labels: reply.labels, size: reply.size });
    else p.reject(reply.userError ? new UserError(new Message(reply.userError)) : new Error(reply.message));
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  request(epoch: number, batch: number): Promise<Batch> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const req: BatchRequest = { id, epoch, batch };
    return new Promise<Batch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Round-robin by batch number: with one worker per core, batches come back nearly in order.
      this.workers[batch % this.workers.length]!.postMessage(req);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the data loader was closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export function createTrainLoader(opts: TrainLoaderOptions): TrainLoader {
  const readAhead = opts.readAhead ?? 4;
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserError(msg`${setting('batchSize')} ${opts.batchSize}: must be a whole number of at least 1`);
  if (!Number.isInteger(readAhead) || readAhead < 1) throw new UserError(msg`${setting('readAhead')} ${readAhead}: must be at least 1 batch`);
  if (!Number.isInteger(workers) || workers < 0) throw new UserError(msg`${setting('workers')} ${workers}: must be a whole number (0 = no worker threads)`);

  // Built on first use: reading the manifest is asynchronous and createTrainLoader is not.
  let backend: Promise<{ source?: BatchSource; pool?: WorkerPool; batches: number }> | undefined;
  const start = () => (backend ??= sourceSpec(opts, workers > 0).then((spec) => {
    const local = createSource(spec);
    return workers > 0 ? { pool: new WorkerPool(spec, workers), batches: local.batches(0) } : { source: local, batches: local.batches(0) };
  }));

  // Batches of the next epoch requested while the current one ends, so that the step after an
  // epoch boundary does not wait either; they count against the same read-ahead bound.
  let early: { epoch: number; batches: Promise<Batch>[] } = { epoch: -1, batches: [] };

  async function* epoch(e: number): AsyncGenerator<Batch> {
    const { source, pool, batches } = await start();
    const makeFor = (ep: number, b: number): Promise<Batch> => (pool ? pool.request(ep, b) : new Promise((resolve) => resolve(source!.produce(ep, b))));
    const inFlight: Promise<Batch>[] = early.epoch === e ? early.batches : [];
    early = { epoch: -1, batches: [] };
    let next = inFlight.length;
    const refill = () => {
      while (next < batches && inFlight.length + early.batches.length < readAhead) inFlight.push(makeFor(e, next++));
      while (next >= batches && inFlight.length + early.batches.length < readAhead && early.batches.length < batches) {
        early.epoch = e + 1;
        const p = makeFor(e + 1, early.batches.length);
        p.catch(() => undefined); // reported if and when that epoch is asked for
        early.batches.push(p);
      }
    };
    try {
      refill();
      while (inFlight.length > 0) {
        const batch = await inFlight.shift()!;
        refill();
        yield batch;
      }
    } finally {
      // The caller stopped early: nobody will await these, so their failures must not go unhandled.
      for (const p of inFlight) p.catch(() => undefined);
    }
  }

  return {
    epoch,
    async close() {
      if (!backend) return;
      const b = await backend.catch(() => undefined);
      await b?.pool?.close();
    },
  };
}
