/**
 * @file How a folder's files become classes and splits, apart from reading the disk: which names
 * are images, which top folders hold a given test split, and the seeded, stratified hold-out.
 * scan.ts applies it to a folder on disk; the web page to the files a user dropped.
 */
import { rngFor, Stream } from '../prng.js';

export const imageExtensions = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const;

/** Top-level folders (any case) that hold a test split beside train/. */
export const testFolderNames = ['test', 'val', 'valid', 'validation'];

export const defaultTestSplit = 0.1;

/** How a folder is split, sized and decoded: what a run's settings say about it (TrainSettings.folder). */
export interface FolderSettings {
  /** Fraction of each class held out for testing when the folder has no test split (default `defaultTestSplit`). */
  testSplit?: number;
  seed?: number;
  /** Side of the square input; default: the images' own size when they all share one no larger than 64, else 32. */
  imageSize?: number;
  /** Default: 1 when every image is greyscale, else 3. */
  channels?: 1 | 3;
  /** crop: shorter side to the input size, then the centre square; stretch: the whole image squashed to the square. */
  resize?: 'crop' | 'stretch';
  /** Train without the files that cannot be decoded, instead of stopping. */
  skipBadImages?: boolean;
  cacheDir?: string;
}

/** Whether a file name has one of the image extensions (any case). */
export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return imageExtensions.some((e) => lower.endsWith(e));
}

/** Per class, a seeded shuffle of its files (in sorted order), the first share of each held out. */
export function stratifiedSplit<F extends { path: string; label: number }>(files: readonly F[], classes: number, testSplit: number, seed: number): { train: F[]; test: F[] } {
  const train: F[] = [];
  const test: F[] = [];
  for (let label = 0; label < classes; label++) {
    const mine = files.filter((f) => f.label === label);
    const rng = rngFor(seed, 0, label, Stream.Shuffle);
    for (let i = mine.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [mine[i], mine[j]] = [mine[j]!, mine[i]!];
    }
    // Every class with two images or more is in both splits.
    const held = mine.length < 2 ? 0 : Math.min(mine.length - 1, Math.max(1, Math.round(mine.length * testSplit)));
    test.push(...mine.slice(0, held));
    train.push(...mine.slice(held));
  }
  const byPath = (a: F, b: F) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { train: train.sort(byPath), test: test.sort(byPath) };
}
