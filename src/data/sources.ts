/**
 * @file Where dataset files come from: which files each dataset needs, where we look for them
 * (in order: `dataDir` alone when given; else $KILOSECOND_DATA/<dataset>,
 * ~/.cache/kilosecond/<dataset>, the folder of Debian's package), the official mirrors to
 * download from into the cache, and the md5 checksums that vouch for them.
 *
 * Checksums are of content, not of containers: IDX files are checked after gunzip, so a
 * re-compressed or decompressed copy (the name without .gz) is accepted; CIFAR-10 is checked member
 * by member, so any tarball with the official batch files loads (the official one, a re-packed one)
 * and so does the extracted cifar-10-batches-bin/ folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { lines, Message, msg, setting, UserError } from '../core/errors.js';
import { readCifarMembers } from './cifar.js';
import { DownloadError, downloadFile, type ProgressCallback } from './download.js';
import { gunzipFile } from './gzip.js';

export type Split = 'train' | 'test';

/** A gzipped IDX file, checked by the md5 of its decompressed content. */
export interface IdxSource { kind: 'idx'; name: string; split: Split; md5: string }

/**
 * An archive checked member by member: found as the archive `name` or as the folder it unpacks to
 * (`extractedFolder`), or as a folder that holds the members itself.
 */
export interface ArchiveSource { kind: 'archive'; name: string; split: Split; extractedFolder: string; members: Readonly<Record<string, string>> }

export type SourceFile = IdxSource | ArchiveSource;

interface SourceSpec { files: SourceFile[]; mirrors: string[]; debianFolder?: string; debianPackage?: string }

const idx = (prefix: string, split: Split, images: string, labels: string): IdxSource[] => [
  { kind: 'idx', name: `${prefix}-images-idx3-ubyte.gz`, split, md5: images },
  { kind: 'idx', name: `${prefix}-labels-idx1-ubyte.gz`, split, md5: labels },
];

export const sourceSpecs: Record<'mnist' | 'fashion-mnist' | 'cifar10', SourceSpec> = {
  mnist: {
    files: [
      ...idx('train', 'train', '6bbc9ace898e44ae57da46a324031adb', 'a25bea736e30d166cdddb491f175f624'),
      ...idx('t10k', 'test', '2646ac647ad5339dbf082846283269ea', '27ae3e4e09519cfbb04c329615203637'),
    ],
    // torchvision's list: yann.lecun.com often refuses downloads, the S3 copy does not.
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
  },
  'fashion-mnist': {
    files: [
      ...idx('train', 'train', 'f4a8712d7a061bf5bd6d2ca38dc4d50a', '9018921c3c673c538a1fc5bad174d6f9'),
      ...idx('t10k', 'test', '8181f5470baa50b63fa0f6fddb340f0a', '15d484375f8d13e6eb1aabb0c3f46965'),
    ],
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    debianFolder: '/usr/share/datasets/fashion-mnist',
    debianPackage: 'dataset-fashion-mnist',
  },
  cifar10: {
    files: [{
      kind: 'archive',
      name: 'cifar-10-binary.tar.gz',
      split: 'train',
      extractedFolder: 'cifar-10-batches-bin',
      // The official files' md5s (the tarball's own, c32a1d4a…, only vouches for one packing of them).
      members: {
        'data_batch_1.bin': '5dd7e06a14cb22eb9f671a540d1b7c25',
        'data_batch_2.bin': '5ea93a67294ea407fff1d09f752e9692',
        'data_batch_3.bin': '942cd6a4bcdd0dd3c604fbe906cb4421',
        'data_batch_4.bin': 'ae636b3ba5c66a11e91e8cb52e771fcb',
        'data_batch_5.bin': '53f37980c15c3d472c316c40844f3f0d',
        'test_batch.bin': '803d5f7f4d78ea53de84dbe85f74fb6d',
      },
    }],
    mirrors: ['https://www.cs.toronto.edu/~kriz/'],
  },
};

export type SourceDataset = keyof typeof sourceSpecs;

export interface LocateOptions {
  dataDir?: string;
  /** Replaces ~/.cache/kilosecond (tests). */
  cacheDir?: string;
  /** Replaces the official mirrors (tests). */
  mirrors?: string[];
  verify?: boolean;
  download?: boolean;
  onProgress?: ProgressCallback;
}

/** The cache folder for a dataset: where downloads go when no `dataDir` is given. */
function cacheFolder(dataset: SourceDataset, opts: LocateOptions): string {
  return join(opts.cacheDir ?? join(homedir(), '.cache', 'kilosecond'), dataset);
}

/** The folders searched, in order. */
export function searchFolders(dataset: SourceDataset, opts: LocateOptions): string[] {
  if (opts.dataDir) return [opts.dataDir];
  const folders: string[] = [];
  const env = process.env['KILOSECOND_DATA'];
  if (env) folders.push(join(env, dataset));
  folders.push(cacheFolder(dataset, opts));
  const debian = sourceSpecs[dataset].debianFolder;
  if (debian) folders.push(debian);
  return folders;
}

/** The files a split needs (CIFAR-10's one tarball serves both). */
export function filesFor(dataset: SourceDataset, splits: readonly Split[]): SourceFile[] {
  const files = sourceSpecs[dataset].files;
  return dataset === 'cifar10' ? files : files.filter((f) => splits.includes(f.split));
}

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();

/**
 * A source found on disk. IDX: the gzip name, then a decompressed copy. An archive: its extracted
 * folder first (no gunzip to pay), then the archive, then the searched folder itself when it holds
 * the members (`dataDir` pointing into cifar-10-batches-bin/).
 */
function findIn(folders: readonly string[], file: SourceFile): string | undefined {
  for (const folder of folders) {
    if (file.kind === 'idx') {
      for (const name of [file.name, file.name.replace(/\.gz$/, '')]) {
        if (existsSync(join(folder, name))) return join(folder, name);
      }
      continue;
    }
    if (isFolder(join(folder, file.extractedFolder))) return join(folder, file.extractedFolder);
    if (existsSync(join(folder, file.name))) return join(folder, file.name);
    if (Object.keys(file.members).some((m) => existsSync(join(folder, m)))) return folder;
  }
  return undefined;
}

export function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** What to do about a file whose content is not the official one. */
const notOfficialAdvice: Message = msg`the file is corrupt or not the official one: delete it to download it again, or pass ${setting('verify', false)} to use it anyway`;

/** An IDX file's decompressed content and its md5. */
export interface VerifiedFile { path: string; content: Buffer; md5: string }

/** Reads an IDX file, decompresses it, and checks its md5 unless `verify` is false. */
export async function readIdxFile(path: string, file: IdxSource, verify: boolean): Promise<VerifiedFile> {
  const content = gunzipFile(path, await readFile(path));
  const sum = md5(content);
  if (verify && sum !== file.md5) {
    throw new UserError(msg`${path}: md5 of the decompressed content is ${sum}, expected ${file.md5} for ${file.name}; ${notOfficialAdvice}`);
  }
  return { path, content, md5: sum };
}

/** Reads a source whole and checks it (a download before it takes its final name). */
async function checkSource(path: string, file: SourceFile, verify: boolean): Promise<void> {
  if (file.kind === 'idx') await readIdxFile(path, file, verify);
  else await readCifarMembers(path, file, Object.keys(file.members), verify);
}

function missingFilesMessage(dataset: SourceDataset, missing: SourceFile[], opts: LocateOptions, attempts: string[]): Message {
  const spec = sourceSpecs[dataset];
  const text: Array<string | Message> = [
    `${dataset}: missing file${missing.length > 1 ? 's' : ''} ${missing.map((f) => f.name).join(', ')}.`,
    opts.download === false ? 'Downloading is turned off.' : `Downloading from the official mirrors failed:`,
    ...attempts.map((a) => `  ${a}`),
    `Put the file${missing.length > 1 ? 's' : ''}${dataset === 'cifar10' ? ' (or the cifar-10-batches-bin/ folder it unpacks to)' : ' (gzip as published, or decompressed without .gz)'} in one of:`,
    ...searchFolders(dataset, opts).map((f) => `  ${f}`),
    opts.dataDir ? '' : msg`or point ${setting('dataDir')} at the folder that holds them (or set KILOSECOND_DATA to a folder with a ${dataset}/ inside).`,
  ];
  if (spec.debianPackage) text.push(`On Debian and Ubuntu: sudo apt-get install ${spec.debianPackage} (installs them in ${spec.debianFolder}).`);
  return lines(text.filter((l) => l !== ''));
}

/**
 * Finds every file, downloading the missing ones (into `dataDir` when given, else the cache)
 * and checking them before they take their final name.
 */
export async function locateFiles(dataset: SourceDataset, files: readonly SourceFile[], opts: LocateOptions): Promise<Map<SourceFile, string>> {
  const folders = searchFolders(dataset, opts);
  const found = new Map<SourceFile, string>();
  const missing: SourceFile[] = [];
  for (const file of files) {
    const path = findIn(folders, file);
    if (path) found.set(file, path);
    else missing.push(file);
  }
  if (missing.length === 0) return found;
  const attempts: string[] = [];
  const failed: SourceFile[] = [];
  if (opts.download !== false) {
    const target = opts.dataDir ?? cacheFolder(dataset, opts);
    for (const file of missing) {
      const dest = join(target, file.name);
      try {
        await downloadFile(file.name, opts.mirrors ?? sourceSpecs[dataset].mirrors, dest, {
          onProgress: opts.onProgress,
          check: (tmp) => checkSource(tmp, file, opts.verify !== false),
        });
        found.set(file, dest);
      } catch (err) {
        if (!(err instanceof DownloadError)) throw err;
        attempts.push(...err.attempts);
        failed.push(file);
      }
    }
  } else {
    failed.push(...missing);
  }
  if (failed.length > 0) throw new UserError(missingFilesMessage(dataset, failed, opts, attempts));
  return found;
}
