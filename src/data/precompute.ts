/**
 * @file Augmentation computed ahead, the article's second optimisation: every epoch's shuffled,
 * augmented training set written as TFRecord shards of tf.train.Example, plus manifest.json.
 *
 * Epoch e visits the images in `epochPermutation(count, seed, e)` order and augments image i with
 * the generator of (seed, e, i): exactly what the online loader does, so both modes give the same
 * batches for the same seed. Shards are written under a temporary name and renamed; the manifest
 * is rewritten after each finished epoch, so it only ever lists complete shards. A second run with
 * the same config reuses the epochs already listed and computes only the missing ones.
 */
import { crc32c } from '@node-rs/crc32';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { msg, setting, UserError } from '../core/errors.js';
import { isAbandonedTempName, withTempFile } from '../io/atomic.js';
import { augmentImage, meanPixel, validateAugment, type AugmentConfig } from './augment.js';
import type { DatasetInfo, ImageSet } from './datasets.js';
import { encodeImageExample } from './example.js';
import { defaultShardSize, readManifest, sameConfig, writeManifest, type Manifest, type PrecomputeConfig, type ShardEntry } from './manifest.js';
import { epochPermutation } from './prng.js';
import { frameRecord } from './tfrecord.js';

export interface PrecomputeOptions {
  info: DatasetInfo;
  train: ImageSet;
  /** File -> md5 of the source files (from loadDataset), recorded so a different source means different shards. */
  sources: Record<string, string>;
  outDir: string;
  epochs: number;
  seed: number;
  augment: AugmentConfig;
  shardSize?: number;
  /** Called after each shard with images written so far (reused ones included) and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface PrecomputeResult {
  manifest: Manifest;
  /** Epochs taken from an earlier run with the same config. */
  reusedEpochs: number;
}

function shardName(epoch: number, shard: number, shards: number): string {
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `epoch-${pad(epoch, 3)}.shard-${pad(shard, 5)}-of-${pad(shards, 5)}.tfrecord`;
}

function checkOptions(o: PrecomputeOptions, shardSize: number): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new UserError(msg`${setting('epochs')} ${o.epochs}: must be a whole number of at least 1`);
  if (!Number.isInteger(shardSize) || shardSize < 1) throw new UserError(msg`${setting('shardSize')} ${shardSize}: must be a whole number of at least 1 record`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new UserError(msg`${setting('seed')} ${o.seed}: must be an integer from 0 to 4294967295`);
  validateAugment(o.augment, o.info.height, o.info.width);
}

/** Writes one shard: records [from, to) of the epoch's order; returns its manifest entry. */
async function writeShard(dir: string, file: string, cfg: PrecomputeConfig, set: ImageSet, order: Uint32Array, epoch: number, from: number, to: number, fill: Uint8Array): Promise<ShardEntry> {
  const imageBytes = set.height * set.width * set.channels;
  const records: Buffer[] = [];
  for (let p = from; p < to; p++) {
    const index = order[p]!;
    const image = new Uint8Array(imageBytes);
    augmentImage(cfg.augment, cfg.seed, epoch, index, set.images, set.height, set.width, set.channels, image, 0, fill);
    records.push(frameRecord(encodeImageExample({ image, label: set.labels[index]!, height: set.height, width: set.width, channels: set.channels, index })));
  }
  const data = Buffer.concat(records);
  await withTempFile(join(dir, file), (tmp) => writeFile(tmp, data));
  return { file, records: to - from, bytes: data.length, crc32c: (crc32c(data) >>> 0).toString(16).padStart(8, '0') };
}

/** True when every shard of an epoch is on disk with its recorded size (contents are checked when read). */
async function epochOnDisk(dir: string, shards: ShardEntry[]): Promise<boolean> {
  for (const s of shards) {
    const st = await stat(join(dir, s.file)).catch(() => undefined);
    if (!st || st.size !== s.bytes) return false;
  }
  return true;
}

export async function precompute(o: PrecomputeOptions): Promise<PrecomputeResult> {
  const shardSize = o.shardSize ?? defaultShardSize;
  checkOptions(o, shardSize);
  const set = o.train;
  const config: PrecomputeConfig = {
    dataset: o.info.name, sources: o.sources, augment: { ...o.augment }, seed: o.seed, shardSize,
    height: set.height, width: set.width, channels: set.channels, count: set.count,
  };
  await mkdir(o.outDir, { recursive: true });
  // Leftovers of an interrupted run: temporary names only, never a listed shard.
  for (const name of await readdir(o.outDir)) if (isAbandonedTempName(name)) await rm(join(o.outDir, name), { force: true });

  const previous = await readManifest(o.outDir);
  const reusable = previous && sameConfig(previous.config, config) ? previous.epochs : [];
  if (previous && reusable.length === 0) {
    // Another config wrote here: drop its manifest first, so a crash below cannot leave it pointing at our shards.
    await rm(join(o.outDir, 'manifest.json'), { force: true });
  }

  const manifest: Manifest = { format: 'kilosecond-precomputed-augmentation', version: 1, config, requestedEpochs: o.epochs, epochs: [] };
  const shards = Math.ceil(set.count / shardSize);
  const fill = meanPixel(o.info.mean);
  let reusedEpochs = 0;
  const total = o.epochs * set.count;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const earlier = reusable[epoch];
    if (earlier && (await epochOnDisk(o.outDir, earlier))) {
      manifest.epochs.push(earlier);
      reusedEpochs++;
      o.onProgress?.((epoch + 1) * set.count, total);
      continue;
    }
    const order = epochPermutation(set.count, o.seed, epoch);
    const entries: ShardEntry[] = [];
    for (let s = 0; s < shards; s++) {
      const from = s * shardSize;
      const to = Math.min(set.count, from + shardSize);
      entries.push(await writeShard(o.outDir, shardName(epoch, s, shards), config, set, order, epoch, from, to, fill));
      o.onProgress?.(epoch * set.count + to, total);
    }
    manifest.epochs.push(entries);
    await writeManifest(o.outDir, manifest);
  }
  // Epochs beyond the requested count from an earlier, longer run stay valid and listed.
  for (let epoch = o.epochs; epoch < reusable.length; epoch++) {
    if (await epochOnDisk(o.outDir, reusable[epoch]!)) manifest.epochs.push(reusable[epoch]!);
    else break;
  }
  manifest.requestedEpochs = Math.max(o.epochs, manifest.epochs.length);
  await writeManifest(o.outDir, manifest);
  return { manifest, reusedEpochs };
}
