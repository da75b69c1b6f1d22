/**
 * @file A dropped or chosen folder as a dataset, as `kilosecond train DIR` reads one (the same
 * rules, split.ts): DIR/<class>/… with a seeded, stratified 10% held out, or DIR/train/<class>/…
 * beside DIR/test/<class>/… (or val/, valid/). Files that are not images by name are counted and
 * left out. The paths are the browser's relative paths ('photos/cat/1.jpg').
 */
import { defaultTestSplit, isImageName, stratifiedSplit, testFolderNames } from '../data/folder/split.js';

export interface PageFile {
  file: File;
  /** Relative to the folder's parent, with '/' separators: the folder's own name first. */
  path: string;
}

export interface LabelledFile extends PageFile {
  label: number;
}

export interface FolderLayout {
  name: string;
  classes: string[];
  layout: 'train/test folders' | 'hold-out split';
  train: LabelledFile[];
  test: LabelledFile[];
  /** Files left out: not images by name, or outside any class folder. */
  ignored: number;
}

/** Why a folder cannot be trained on, said on the page. */
export class FolderError extends Error {}

/**
 * Paths in the order `kilosecond train` lists them, each folder's entries sorted by name (scan.ts):
 * the browser gives them in the disk's order, and the hold-out split and the training order
 * follow the order, so without this the page would train another run than the command line on
 * the same folder. Segment by segment, not whole paths: 'a/x.png' comes before 'a-b.png'.
 */
function byFolderOrder(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

export function folderLayout(files: readonly PageFile[], seed: number): FolderLayout {
  if (files.length === 0) throw new FolderError('the folder is empty: choose a folder with one subfolder of images per class');
  const name = files[0]!.path.split('/')[0]!;
  // Below the folder itself: 'cat/1.jpg', or 'train/cat/1.jpg'.
  const within = files.map((f) => ({ ...f, parts: f.path.split('/').slice(1) })).sort((a, b) => byFolderOrder(a.parts, b.parts));
  const tops = new Set(within.filter((f) => f.parts.length > 2).map((f) => f.parts[0]!));
  const trainTop = [...tops].find((t) => t.toLowerCase() === 'train');
  const testTop = [...tops].find((t) => testFolderNames.includes(t.toLowerCase()));
  const given = trainTop !== undefined && testTop !== undefined;
  let ignored = 0;
  // [class folder, file] for every image under `top` (or the folder itself).
  const imagesIn = (top: string | undefined): Array<[string, PageFile]> => within.flatMap((f): Array<[string, PageFile]> => {
    const parts = top === undefined ? f.parts : f.parts[0] === top ? f.parts.slice(1) : undefined;
    if (parts === undefined) return [];
    if (parts.length < 2 || !isImageName(parts.at(-1)!)) {
      ignored++;
      return [];
    }
    return [[parts[0]!, { file: f.file, path: f.path }]];
  });
  const trainImages = imagesIn(given ? trainTop : undefined);
  const testImages = given ? imagesIn(testTop) : [];
  if (given) ignored += within.filter((f) => f.parts[0] !== trainTop && f.parts[0] !== testTop).length;
  const classes = [...new Set(trainImages.map(([c]) => c))].sort();
  if (classes.length === 0) throw new FolderError(`${name}: no images in class folders; put each class's images in a subfolder named after the class (${name}/<class>/…)`);
  if (classes.length < 2) throw new FolderError(`${name}: only one class folder ('${classes[0]}'); a classifier needs at least two classes, one subfolder each`);
  const labelled = (images: Array<[string, PageFile]>): LabelledFile[] => images.map(([c, f]) => ({ ...f, label: classes.indexOf(c) }));
  if (given) {
    const unknown = [...new Set(testImages.map(([c]) => c))].filter((c) => !classes.includes(c));
    if (unknown.length > 0) throw new FolderError(`${name}/${testTop}: class folder(s) ${unknown.map((c) => `'${c}'`).join(', ')} not in ${name}/${trainTop}; every test class must also be a training class`);
    if (testImages.length === 0) throw new FolderError(`${name}/${testTop}: no images in the test split`);
    return { name, classes, layout: 'train/test folders', train: labelled(trainImages), test: labelled(testImages), ignored };
  }
  const split = stratifiedSplit(labelled(trainImages), classes.length, defaultTestSplit, seed);
  return { name, classes, layout: 'hold-out split', ...split, ignored };
}
