/**
 * @file A run's data: the dataset opened as the settings say, the settings it decides (the
 * augmentation's padding, a batch capped to a small training set: fit-recipe.ts), and the streaming loader of
 * augmented training batches (online, or from TFRecord shards precomputed first).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Message, UserError } from '../core/errors.js';
import type { AugmentConfig } from '../data/augment.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { createTrainLoader, type TrainLoader } from '../data/loader.js';
import { openDataset, type OpenedDataset } from '../data/open.js';
import { precompute } from '../data/precompute.js';
import { runConfigFor } from './fit-recipe.js';
import type { RunConfig } from './plan-run.js';
import type { TrainConfig, TrainSettings } from './settings.js';

/** The loader's `verify` is TrainConfig's `verifyData`: its errors are rethrown naming the field the caller set. */
function namingVerifyData(err: unknown): never {
  if (!(err instanceof UserError)) throw err;
  throw new UserError(new Message(err.parts.map((p) => (typeof p !== 'string' && p.field === 'verify' ? { ...p, field: 'verifyData' } : p))));
}

/** A run's dataset, opened as `settings` say: both splits, an image folder split with the run's seed. */
export function openRunData(settings: TrainSettings, hooks: { onDataProgress?(stage: string, done: number, total: number): void } = {}): Promise<OpenedDataset> {
  return openDataset(settings.dataset, {
    dataDir: settings.dataDir, verify: settings.verifyData !== false, split: 'both',
    folder: { ...settings.folder, seed: settings.seed, ...(hooks.onDataProgress ? { onProgress: hooks.onDataProgress } : {}) },
  }).catch(namingVerifyData);
}

/** The settings as a run on `data` trains with them: what the dataset decides filled in, the batch capped to its training set. */
export function configForData(settings: TrainConfig, data: OpenedDataset): RunConfig {
  return runConfigFor(settings, data.info, data.train!.count);
}

/** The training batches of `epochs` epochs: augmented online, or precomputed as TFRecord shards first. */
export async function openLoader(
  config: TrainConfig & { augmentation: AugmentConfig }, info: DatasetInfo, train: ImageSet, sources: Record<string, string>, epochs: number,
  onPhase?: (phase: string) => void,
): Promise<TrainLoader> {
  const common = { info, batchSize: config.batchSize };
  if (config.augment === 'none') return createTrainLoader({ ...common, mode: 'none', train, seed: config.seed });
  if (config.augment === 'online') return createTrainLoader({ ...common, mode: 'online', train, augment: config.augmentation, seed: config.seed });
  onPhase?.(`precomputing ${epochs} augmented epoch(s) as TFRecords`);
  const dir = config.shardsDir ?? join(homedir(), '.cache', 'kilosecond', 'precomputed', `${info.name}-seed${config.seed}`);
  await precompute({ info, train, sources, outDir: dir, epochs, seed: config.seed, augment: config.augmentation });
  return createTrainLoader({ ...common, mode: 'precomputed', dir });
}
