/**
 * @file A folder of images as a dataset: which files are images of which class, and which split
 * each belongs to, from the layouts users already have (torchvision's ImageFolder, Keras's
 * image_dataset_from_directory):
 *
 *   DIR/train/<class>/…  with  DIR/test/<class>/… (or val/, valid/): the splits as given;
 *   DIR/<class>/… (or DIR/train/<class>/… alone): a seeded, stratified hold-out test split.
 *
 * Class names are the folder names, sorted; images in nested subfolders count for their class.
 * Files that are not images (by extension: .txt, .DS_Store, Thumbs.db, …) are ignored and counted.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { msg, setting, UserError } from '../../core/errors.js';
import { defaultTestSplit, type FolderSettings, imageExtensions, isImageName, stratifiedSplit, testFolderNames } from './split.js';

export interface ImageFile {
  path: string;
  label: number;
  bytes: number;
  /** Modification time in ms: with the path and size, what the decode cache is keyed by. */
  mtimeMs: number;
}

export interface FolderScan {
  root: string;
  layout: 'train/test folders' | 'hold-out split';
  classes: string[];
  train: ImageFile[];
  test: ImageFile[];
  /** Files skipped because they are not images, by extension or name. */
  ignored: number;
  /** The held-out fraction, for the hold-out layout. */
  testSplit?: number;
}

/** The fraction of each class held out when a folder has no test split. */
export type ScanOptions = Pick<FolderSettings, 'testSplit' | 'seed'>;


function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${dir}: permission denied; make the folder readable (chmod -R u+rX) or leave it out`);
    throw new UserError(`${dir}: cannot be read (${(err as Error).message})`);
  }
}

/** Whether `path` (a symbolic link or not) is a folder, and its real path. */
function folderTarget(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? realpathSync(path) : undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UserError(`${path}: a symbolic link loop; remove the link or point it elsewhere`);
    if (code === 'ENOENT') return undefined; // a dangling link: nothing there to read
    throw new UserError(`${path}: cannot be read (${(err as Error).message})`);
  }
}

/** The image files under one class folder, nested subfolders included, in sorted order. */
function imagesUnder(dir: string, label: number, seen: Set<string>, counts: { ignored: number }): ImageFile[] {
  const real = realpathSync(dir);
  if (seen.has(real)) throw new UserError(`${dir}: a symbolic link loop (this folder is reached again through a link); remove the link`);
  seen.add(real);
  const files: ImageFile[] = [];
  for (const entry of listDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && folderTarget(path))) {
      files.push(...imagesUnder(path, label, seen, counts));
    } else if (isImageName(entry.name)) {
      const s = statSync(path);
      files.push({ path, label, bytes: s.size, mtimeMs: s.mtimeMs });
    } else {
      counts.ignored++;
    }
  }
  seen.delete(real);
  return files;
}

/** The class folders of a split, sorted; files at the split's top level are not in any class. */
function classFolders(dir: string, counts: { ignored: number }): string[] {
  const names: string[] = [];
  for (const entry of listDir(dir)) {
    if (entry.isDirectory() || (entry.isSymbolicLink() && folderTarget(join(dir, entry.name)))) names.push(entry.name);
    else counts.ignored++;
  }
  return names;
}

function readSplit(dir: string, classes: string[], counts: { ignored: number }): ImageFile[] {
  const files: ImageFile[] = [];
  classes.forEach((name, label) => {
    const images = imagesUnder(join(dir, name), label, new Set(), counts);
    if (images.length === 0) throw new UserError(`${join(dir, name)}: class '${name}' has no images (${imageExtensions.join(' ')}); add some or remove the folder`);
    files.push(...images);
  });
  return files;
}

export function scanImageFolder(root: string, o: ScanOptions = {}): FolderScan {
  let s;
  try {
    s = statSync(root);
  } catch {
    throw new UserError(`${root}: no such folder; give a folder of images (DIR/<class>/… or DIR/train/<class>/… with DIR/test/<class>/…)`);
  }
  if (!s.isDirectory()) throw new UserError(`${root}: not a folder; give a folder of images, one subfolder per class`);
  const counts = { ignored: 0 };
  const top = listDir(root);
  const folder = (names: string[]) => top.find((e) => names.includes(e.name.toLowerCase()) && folderTarget(join(root, e.name)))?.name;
  const trainName = folder(['train']);
  const testName = folder(testFolderNames);
  const base = trainName ? join(root, trainName) : root;
  const classes = classFolders(base, counts);
  if (classes.length === 0) throw new UserError(`${base}: no class folders; put each class's images in a subfolder named after the class (${relative(process.cwd(), base) || '.'}/<class>/…)`);
  if (classes.length < 2) throw new UserError(`${base}: only one class folder ('${classes[0]}'); a classifier needs at least two classes, one subfolder each`);
  const files = readSplit(base, classes, counts);
  if (trainName && testName) {
    const testDir = join(root, testName);
    const testClasses = classFolders(testDir, counts);
    const unknown = testClasses.filter((c) => !classes.includes(c));
    if (unknown.length > 0) {
      throw new UserError(`${testDir}: class folder${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `'${c}'`).join(', ')} not in ${join(root, trainName)}; every test class must also be a training class`);
    }
    const test: ImageFile[] = [];
    for (const name of testClasses) test.push(...imagesUnder(join(testDir, name), classes.indexOf(name), new Set(), counts));
    if (test.length === 0) throw new UserError(`${testDir}: no images in the test split; add some, or remove the folder to hold out part of the training images`);
    return { root, layout: 'train/test folders', classes, train: files, test, ignored: counts.ignored };
  }
  const testSplit = o.testSplit ?? defaultTestSplit;
  if (!(testSplit > 0 && testSplit < 1)) throw new UserError(msg`${setting('testSplit')} ${testSplit}: the held-out fraction must be above 0 and below 1`);
  const split = stratifiedSplit(files, classes.length, testSplit, o.seed ?? 0);
  return { root, layout: 'hold-out split', classes, ...split, ignored: counts.ignored, testSplit };
}
