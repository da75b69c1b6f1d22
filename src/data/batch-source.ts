/**
 * @file Where training batches are made, the same code whether it runs in a worker thread or in
 * the caller's: `OnlineSource` (online-source.ts) augments images from memory, `ShardSource` reads precomputed
 * TFRecord shards. Both assemble normalised NHWC batches through `Normaliser`.
 *
 * Sources are built from a `SourceSpec`, plain data that can be posted to a worker (the images of
 * an online source travel as a SharedArrayBuffer, so N workers share one copy).
 */
import { crc32c } from '@node-rs/crc32';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { msg, setting, UserError } from '../core/errors.js';
import { allocateBatch, batchCount, batchRange, Normaliser, type Batch } from './batch.js';
import { decodeImageExample } from './example.js';
import type { Manifest, ShardEntry } from './manifest.js';
import { type CommonSpec, OnlineSource, type OnlineSpec } from './online-source.js';
import { readRecords, RecordError } from './tfrecord.js';

export type SourceSpec = OnlineSpec | (CommonSpec & { kind: 'shards'; dir: string; manifest: Manifest });

export interface BatchSource {
  /** Batches in epoch `epoch`. */
  batches(epoch: number): number;
  produce(epoch: number, batch: number): Batch;
}


/** A shard in memory: its bytes checked against the manifest, and its records' payloads. */
interface LoadedShard { epoch: number; shard: number; payloads: Buffer[] }

export class ShardSource implements BatchSource {
  private readonly normaliser: Normaliser;
  private readonly imageSize: number;
  private readonly count: number;
  private loaded: LoadedShard | undefined;

  constructor(private readonly spec: Extract<SourceSpec, { kind: 'shards' }>) {
    const c = spec.manifest.config;
    this.normaliser = new Normaliser(spec.mean, spec.std);
    this.imageSize = c.height * c.width * c.channels;
    this.count = c.count;
  }

  batches(): number {
    return batchCount(this.count, this.spec.batchSize, this.spec.dropLast);
  }

  private shardsOf(epoch: number): ShardEntry[] {
    const epochs = this.spec.manifest.epochs;
    if (epoch >= epochs.length) {
      throw new UserError(msg`${join(this.spec.dir, 'manifest.json')}: epoch ${epoch} was not precomputed (${epochs.length} epoch${epochs.length === 1 ? '' : 's'} listed); run precompute again with ${setting('epochs', epoch + 1)} or more`);
    }
    return epochs[epoch]!;
  }

  private load(epoch: number, shard: number): LoadedShard {
    if (this.loaded?.epoch === epoch && this.loaded.shard === shard) return this.loaded;
    this.loaded = undefined; // let the previous shard go before reading the next
    const entry = this.shardsOf(epoch)[shard]!;
    const path = join(this.spec.dir, entry.file);
    const mismatch = (what: string) => new UserError(`${path}: ${what}; the shard does not match ${join(this.spec.dir, 'manifest.json')} (modified or damaged since precompute): run precompute again into an empty folder`);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      throw mismatch(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (data.length !== entry.bytes) throw mismatch(`${data.length} bytes, the manifest says ${entry.bytes}`);
    const crc = (crc32c(data) >>> 0).toString(16).padStart(8, '0');
    if (crc !== entry.crc32c) throw mismatch(`CRC32C ${crc}, the manifest says ${entry.crc32c}`);
    let payloads: Buffer[];
    try {
      // The whole-file CRC above already vouches for every byte: skip the per-record CRCs.
      payloads = [...readRecords(data, false)];
    } catch (err) {
      if (err instanceof RecordError) throw mismatch(err.message);
      throw err;
    }
    if (payloads.length !== entry.records) throw mismatch(`${payloads.length} records, the manifest says ${entry.records}`);
    this.loaded = { epoch, shard, payloads };
    return this.loaded;
  }

  produce(epoch: number, b: number): Batch {
    const [from, to] = batchRange(b, this.spec.batchSize, this.count);
    const shards = this.shardsOf(epoch);
    const batch = allocateBatch(to - from, this.imageSize);
    let shard = 0;
    let shardStart = 0;
    for (let p = from, k = 0; p < to; p++, k++) {
      while (p >= shardStart + shards[shard]!.records) shardStart += shards[shard++]!.records;
      const record = p - shardStart;
      const { payloads } = this.load(epoch, shard);
      const file = join(this.spec.dir, shards[shard]!.file);
      let example;
      try {
        example = decodeImageExample(payloads[record]!);
      } catch (err) {
        throw new UserError(`${file}: record ${record} is not a valid image Example (${(err as Error).message}); run precompute again into an empty folder`);
      }
      if (example.image.length !== this.imageSize || example.label >= this.spec.classes) {
        throw new UserError(`${file}: record ${record} holds a ${example.height}x${example.width}x${example.channels} image with label ${example.label}, the manifest promises ${this.imageSize}-byte images and labels below ${this.spec.classes}`);
      }
      this.normaliser.normalise(example.image, 0, this.imageSize, batch.images, k * this.imageSize);
      batch.labels[k] = example.label;
    }
    return batch;
  }
}

export function createSource(spec: SourceSpec): BatchSource {
  return spec.kind === 'online' ? new OnlineSource(spec) : new ShardSource(spec);
}
