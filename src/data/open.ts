/**
 * @file One entry for every kind of dataset the commands accept: a built-in name (mnist,
 * fashion-mnist, cifar10) or the path of a folder of images.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { datasetNames, type DatasetInfo, type ImageSet } from './datasets.js';
import { loadDataset, type LoadOptions } from './load-dataset.js';
import { loadImageFolder, type FolderLoadOptions, type LoadedFolder } from './folder/load.js';
import { fileKey } from './folder/cache.js';
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';

export interface OpenOptions extends Pick<LoadOptions, 'dataDir' | 'verify' | 'split' | 'download' | 'onProgress'> {
  folder?: FolderLoadOptions;
}

export interface OpenedDataset {
  info: DatasetInfo;
  train?: ImageSet;
  test?: ImageSet;
  /** What the images came from (file -> md5, or the folder and a digest of its files), for manifests and reports. */
  sources: Record<string, string>;
  /** For an image folder: its layout, settings and skipped files. */
  folder?: Omit<LoadedFolder, 'info' | 'train' | 'test'>;
  /** Seconds the opening took (reading, checking, decoding): a run counts it as data preparation wherever it was opened. */
  openSeconds: number;
}

export const isBuiltinDataset = (name: string): boolean => (datasetNames as string[]).includes(name);

/** Refuses, saying what to give instead, a dataset argument that is neither a built-in name nor an existing path. */
export function checkDatasetArgument(dataset: string): void {
  if (isBuiltinDataset(dataset) || existsSync(dataset)) return;
  throw new UserError(`unknown dataset '${dataset}': give one of ${datasetNames.join(', ')}, or the path of a folder of images (one subfolder per class)`);
}

/** A short name for a dataset's runs and files: the built-in name, or the image folder's own name. */
export const datasetRunName = (dataset: string): string => (isBuiltinDataset(dataset) ? dataset : basename(resolve(dataset)));

/** A digest of every file's path, size and modification time with the decode settings: it changes when any of them does. */
function folderDigest(f: LoadedFolder): string {
  const h = createHash('md5');
  h.update(JSON.stringify(f.settings));
  for (const file of [...f.scan.train, ...f.scan.test]) h.update(`${fileKey(file)}\n`);
  return h.digest('hex');
}

export async function openDataset(dataset: string, o: OpenOptions = {}): Promise<OpenedDataset> {
  const start = performance.now();
  const openSeconds = () => (performance.now() - start) / 1000;
  if (isBuiltinDataset(dataset)) {
    const loaded = await loadDataset(dataset, o);
    return { ...loaded, openSeconds: openSeconds() };
  }
  checkDatasetArgument(dataset);
  const { info, train, test, ...folder } = await loadImageFolder(dataset, o.folder);
  const opened: OpenedDataset = { info, sources: { [`folder:${folder.scan.root}`]: folderDigest({ info, train, test, ...folder }) }, folder, openSeconds: openSeconds() };
  if (o.split !== 'test') opened.train = train;
  if (o.split !== 'train') opened.test = test;
  return opened;
}
