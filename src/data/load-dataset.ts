/**
 * @file Loading a built-in dataset into memory as uint8 HWC images, from files found or
 * downloaded (sources.ts says where files are found).
 */
import { msg, setting, UserError } from '../core/errors.js';
import { readCifar } from './cifar.js';
import { datasetInfo, type DatasetInfo, type DatasetName, type ImageSet } from './datasets.js';
import type { ProgressCallback } from './download.js';
import { parseIdxImages, parseIdxLabels } from './idx.js';
import { filesFor, locateFiles, readIdxFile, type IdxSource, type LocateOptions, type SourceFile, type Split } from './sources.js';

export interface LoadOptions {
  /** When given, the only folder searched (and where downloads go). */
  dataDir?: string;
  /** Check md5 checksums (default true). */
  verify?: boolean;
  /** Download missing files from the official mirrors (default true). */
  download?: boolean;
  onProgress?: ProgressCallback;
  split?: 'train' | 'test' | 'both';
  /** Replaces ~/.cache/kilosecond (tests). */
  cacheDir?: string;
  /** Replaces the official mirror list (tests). */
  mirrors?: string[];
}

function splitsOf(split: LoadOptions['split']): Split[] {
  if (split === undefined || split === 'both') return ['train', 'test'];
  if (split !== 'train' && split !== 'test') throw new UserError(msg`${setting('split')} '${String(split)}': choose train, test or both`);
  return [split];
}

function checkCount(info: DatasetInfo, set: ImageSet, split: Split, file: string): ImageSet {
  const expected = split === 'train' ? info.trainCount : info.testCount;
  if (set.count !== expected) {
    throw new UserError(msg`${file}: ${set.count} ${split} images, ${info.name} has ${expected}; is this the right file? (pass ${setting('verify', false)} to use it anyway)`);
  }
  return set;
}

async function loadIdxSplit(info: DatasetInfo, files: Map<SourceFile, string>, split: Split, verify: boolean, sources: Record<string, string>): Promise<ImageSet> {
  const [imagesFile, labelsFile] = [...files.keys()].filter((f) => f.split === split) as [IdxSource, IdxSource];
  const imagesRead = await readIdxFile(files.get(imagesFile)!, imagesFile, verify);
  const labelsRead = await readIdxFile(files.get(labelsFile)!, labelsFile, verify);
  // Keyed by the published name, so a decompressed copy records the same source as the original.
  sources[imagesFile.name] = imagesRead.md5;
  sources[labelsFile.name] = labelsRead.md5;
  const images = parseIdxImages(imagesRead.path, imagesRead.content);
  const labels = parseIdxLabels(labelsRead.path, labelsRead.content, info.classes.length);
  if (images.rows !== info.height || images.cols !== info.width) {
    throw new UserError(`${imagesRead.path}: images are ${images.rows}x${images.cols}, ${info.name} has ${info.height}x${info.width}`);
  }
  if (labels.length !== images.count) {
    throw new UserError(`${labelsRead.path}: ${labels.length} labels for ${images.count} images in ${imagesRead.path}; the two files do not belong together`);
  }
  const set = { images: images.pixels, labels, count: images.count, height: info.height, width: info.width, channels: 1 };
  return verify ? checkCount(info, set, split, imagesRead.path) : set;
}

/**
 * Loads a dataset's train and/or test images, finding or downloading the files. `sources` maps
 * each file read to its md5 (of the decompressed content for IDX), for manifests and reports.
 */
export async function loadDataset(dataset: string, opts: LoadOptions = {}): Promise<{ info: DatasetInfo; train?: ImageSet; test?: ImageSet; sources: Record<string, string> }> {
  const info = datasetInfo(dataset);
  const name = info.name as DatasetName;
  const splits = splitsOf(opts.split);
  const verify = opts.verify !== false;
  const locate: LocateOptions = { ...opts, verify };
  const files = await locateFiles(name, filesFor(name, splits), locate);
  const sources: Record<string, string> = {};
  const result: { info: DatasetInfo; train?: ImageSet; test?: ImageSet; sources: Record<string, string> } = { info, sources };
  const [first, path] = [...files.entries()][0]!;
  if (first.kind === 'archive') {
    const parts = await readCifar(path, first, { train: splits.includes('train'), test: splits.includes('test') }, verify, sources);
    const asSet = (p: { images: Uint8Array; labels: Uint8Array; count: number }): ImageSet => ({ ...p, height: 32, width: 32, channels: 3 });
    if (parts.train) result.train = checkCount(info, asSet(parts.train), 'train', path);
    if (parts.test) result.test = checkCount(info, asSet(parts.test), 'test', path);
    return result;
  }
  for (const split of splits) result[split] = await loadIdxSplit(info, files, split, verify, sources);
  return result;
}
