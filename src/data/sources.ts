/**
 * @file Where dataset files come from: which files each dataset needs, where we look for them
 * (in order: --data-dir alone when given; else $KILOSECOND_DATA/<dataset>,
 * ~/.cache/kilosecond/<dataset>, the folder of Debian's package), the official mirrors to
 * download from into the cache, and the md5 checksums that vouch for them.
 *
 * IDX checksums are of the decompressed content, so a re-compressed or decompressed copy (the
 * name without .gz) is accepted; CIFAR-10 has only a published checksum for its tarball.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { DownloadError, downloadFile, type ProgressCallback } from './download.js';
import { gunzipFile } from './gzip.js';

export type Split = 'train' | 'test';

export interface SourceFile {
  name: string;
  split: Split;
  /** md5 of the content after gunzip (IDX) or of the file itself (the CIFAR-10 tarball). */
  md5: string;
  checksumOf: 'decompressed' | 'file';
}

interface SourceSpec { files: SourceFile[]; mirrors: string[]; debianFolder?: string; debianPackage?: string }

const idx = (prefix: string, split: Split, images: string, labels: string): SourceFile[] => [
  { name: `${prefix}-images-idx3-ubyte.gz`, split, md5: images, checksumOf: 'decompressed' },
  { name: `${prefix}-labels-idx1-ubyte.gz`, split, md5: labels, checksumOf: 'decompressed' },
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
    files: [{ name: 'cifar-10-binary.tar.gz', split: 'train', md5: 'c32a1d4ab5d03f1284b67883e8d87530', checksumOf: 'file' }],
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

/** The cache folder for a dataset: where downloads go when no --data-dir is given. */
export function cacheFolder(dataset: SourceDataset, opts: LocateOptions): string {
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

/** A file found on disk: gzip name first, then a decompressed copy (IDX only). */
function findIn(folders: readonly string[], file: SourceFile): string | undefined {
  const names = file.checksumOf === 'decompressed' ? [file.name, file.name.replace(/\.gz$/, '')] : [file.name];
  for (const folder of folders) {
    for (const name of names) {
      const path = join(folder, name);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

export function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** A file's bytes as read, its content (decompressed for IDX) and the md5 that was checked. */
export interface VerifiedFile { path: string; raw: Buffer; content: Buffer; md5: string }

/** Reads a source file, decompresses IDX, and checks its md5 unless `verify` is false. */
export async function readSourceFile(path: string, file: SourceFile, verify: boolean): Promise<VerifiedFile> {
  const raw = await readFile(path);
  const content = file.checksumOf === 'decompressed' ? gunzipFile(path, raw) : raw;
  const sum = md5(file.checksumOf === 'decompressed' ? content : raw);
  if (verify && sum !== file.md5) {
    const what = file.checksumOf === 'decompressed' ? 'the decompressed content' : 'the file';
    throw new UserError(`${path}: md5 of ${what} is ${sum}, expected ${file.md5} for ${file.name}; the file is corrupt or not the official one: delete it to download it again, or pass --no-verify to use it anyway`);
  }
  return { path, raw, content, md5: sum };
}

function missingFilesMessage(dataset: SourceDataset, missing: SourceFile[], opts: LocateOptions, attempts: string[]): string {
  const spec = sourceSpecs[dataset];
  const lines = [
    `${dataset}: missing file${missing.length > 1 ? 's' : ''} ${missing.map((f) => f.name).join(', ')}.`,
    opts.download === false ? 'Downloading is turned off.' : `Downloading from the official mirrors failed:`,
    ...attempts.map((a) => `  ${a}`),
    `Put the file${missing.length > 1 ? 's' : ''}${dataset === 'cifar10' ? '' : ' (gzip as published, or decompressed without .gz)'} in one of:`,
    ...searchFolders(dataset, opts).map((f) => `  ${f}`),
    opts.dataDir ? '' : `or point --data-dir at the folder that holds them (or set KILOSECOND_DATA to a folder with a ${dataset}/ inside).`,
  ];
  if (spec.debianPackage) lines.push(`On Debian and Ubuntu: sudo apt-get install ${spec.debianPackage} (installs them in ${spec.debianFolder}).`);
  return lines.filter((l) => l !== '').join('\n');
}

/**
 * Finds every file, downloading the missing ones (into --data-dir when given, else the cache)
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
          check: async (tmp) => {
            await readSourceFile(tmp, file, opts.verify !== false);
          },
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
