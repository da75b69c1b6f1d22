/**
 * @file Where tests find the repository and the shared data beside it.
 * Compiled tests live in dist/, so paths are resolved from the package root, not the file.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The repository root (the folder holding package.json). */
export const repoRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
/** `../shared` beside the checkout: fixtures, the MNIST test set, the PyTorch reference. */
export const sharedDir = resolve(repoRoot, '..', 'shared');
export const fixturesDir = join(sharedDir, 'fixtures');
