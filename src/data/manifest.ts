/**
 * @file manifest.json of a precomputed folder: what was augmented (dataset, source checksums,
 * augmentation, seed), how (shard size) and the shards of each finished epoch with their record
 * counts, sizes and CRC32C. Only finished shards are ever listed: the manifest is rewritten
 * (atomically) after each epoch, so an interrupted run leaves a manifest that is true, just shorter.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { msg, setting, UserError } from '../core/errors.js';
import type { AugmentConfig } from './augment.js';
import { writeFileAtomic } from '../io/atomic.js';

const manifestName = 'manifest.json';
const manifestFormat = 'kilosecond-precomputed-augmentation';
/** Records per shard unless asked otherwise: about 30 MB of CIFAR-10, the loader's memory for a shard. */
export const defaultShardSize = 10000;

export interface ShardEntry {
  file: string;
  records: number;
  bytes: number;
  /** CRC32C of the whole shard file, 8 hex digits. */
  crc32c: string;
}

/** What determines the shards' bytes: two runs with equal configs write identical shards. */
export interface PrecomputeConfig {
  dataset: string;
  sources: Record<string, string>;
  augment: AugmentConfig;
  seed: number;
  shardSize: number;
  height: number;
  width: number;
  channels: number;
  /** Records per epoch: the size of the training set. */
  count: number;
}

export interface Manifest {
  format: typeof manifestFormat;
  version: 1;
  config: PrecomputeConfig;
  /** Epochs asked for; `epochs.length` of them are finished. */
  requestedEpochs: number;
  /** Shards of each finished epoch, in reading order. */
  epochs: ShardEntry[][];
}

/** Stable JSON (sorted keys) so that configs compare by content, not by key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sameConfig(a: PrecomputeConfig, b: PrecomputeConfig): boolean {
  return canonical(a) === canonical(b);
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
}

function fail(path: string, what: string): never {
  throw new UserError(`${path}: ${what}; this is not a manifest written by kilosecond precompute (or it was edited): run precompute again into an empty folder`);
}

/** Reads and checks the manifest's structure; undefined when the folder has none. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const path = join(dir, manifestName);
  if (!existsSync(path)) return undefined;
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch (err) {
    fail(path, `not valid JSON (${(err as Error).message})`);
  }
  if (m?.format !== manifestFormat || m.version !== 1) fail(path, `format is not ${manifestFormat} version 1`);
  const c = m.config;
  if (!c || typeof c.dataset !== 'string' || ![c.seed, c.shardSize, c.height, c.width, c.channels, c.count].every(Number.isInteger) || !c.augment) {
    fail(path, 'the config block is incomplete');
  }
  if (!Array.isArray(m.epochs) || !Number.isInteger(m.requestedEpochs)) fail(path, 'the epoch list is missing');
  m.epochs.forEach((shards, e) => {
    if (!Array.isArray(shards)) fail(path, `epoch ${e} has no shard list`);
    let total = 0;
    for (const s of shards) {
      if (typeof s.file !== 'string' || s.file.includes('/') || s.file.includes('\\') || !Number.isInteger(s.records) || !Number.isInteger(s.bytes) || !/^[0-9a-f]{8}$/.test(s.crc32c)) {
        fail(path, `epoch ${e} lists a malformed shard entry ${JSON.stringify(s)}`);
      }
      total += s.records;
    }
    if (total !== c.count) fail(path, `epoch ${e} lists ${total} records, the config says ${c.count} per epoch`);
  });
  return m;
}

/** The manifest of a folder, or a UserError saying how to make one. */
export async function requireManifest(dir: string): Promise<Manifest> {
  const m = await readManifest(dir);
  if (!m) throw new UserError(msg`${join(dir, manifestName)} not found: run precompute with ${setting('epochs')} N and ${setting('outDir', dir)} first`);
  return m;
}
