/**
 * @file A dataset's test images prepared the way a checkpoint's model expects them: an image
 * folder decoded at the model's input size, channels and resize mode, and normalised with the
 * checkpoint's own mean and std (not statistics of the folder at hand), its classes matched by name.
 */
import { UserError } from '../core/errors.js';
import type { DatasetInfo, ImageSet } from '../data/datasets.js';
import { defaultResize } from '../data/folder/decode.js';
import { openDataset, isBuiltinDataset, type OpenOptions } from '../data/open.js';
import type { CheckpointMeta } from '../train/checkpoint.js';

export async function testSetForModel(dataset: string, meta: CheckpointMeta, modelPath: string, o: Omit<OpenOptions, 'split' | 'folder'> & { cacheDir?: string }): Promise<{ info: DatasetInfo; test: ImageSet }> {
  const [size] = meta.inputSize;
  // A held-out split is the one the model was trained with: same fraction, same seed.
  const trained = meta.config as { seed?: number; folder?: { testSplit?: number } } | undefined;
  const opened = await openDataset(dataset, {
    ...o,
    split: 'test',
    folder: {
      imageSize: size, channels: meta.inChannels as 1 | 3, resize: meta.resize ?? defaultResize,
      ...(trained?.seed === undefined ? {} : { seed: trained.seed }),
      ...(trained?.folder?.testSplit === undefined ? {} : { testSplit: trained.folder.testSplit }),
      ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
    },
  });
  const info = opened.info;
  if (!isBuiltinDataset(dataset) && info.classes.join('\n') !== meta.classes.join('\n')) {
    throw new UserError(`${dataset}: classes ${info.classes.join(', ')} are not the model's (${meta.classes.join(', ')}, from ${modelPath})`);
  }
  if (info.channels !== meta.inChannels || info.classes.length !== meta.classes.length) {
    throw new UserError(`${modelPath} was trained on ${meta.dataset} (${meta.inChannels} channel(s), ${meta.classes.length} classes); ` +
      `${info.name} has ${info.channels} channel(s) and ${info.classes.length} classes`);
  }
  return { info: { ...info, mean: meta.mean, std: meta.std }, test: opened.test! };
}
