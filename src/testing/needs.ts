/**
 * @file What some tests need from the machine: Debian's Fashion-MNIST package (tests that train
 * on real data) and Debian's PyTorch (tests against it). Without them a test skips, except under
 * CI, which installs both: a skip there would hide the most important tests.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { torchAvailable } from '../bench/peers.js';

export const debianFashionMnist = '/usr/share/datasets/fashion-mnist';

type Skippable = { skip(reason: string): void };

/** Skips the test for want of a Debian package, or fails it under CI. Returns false, for `||`. */
function missingPackage(t: Skippable, name: string): false {
  if (process.env.CI) assert.fail(`${name} is not installed: CI must install it`);
  t.skip(`${name} not installed (apt-get install ${name})`);
  return false;
}

/** True when Fashion-MNIST is installed; otherwise skips the test (fails it under CI). */
export function needFashionMnist(t: Skippable): boolean {
  return existsSync(debianFashionMnist) || missingPackage(t, 'dataset-fashion-mnist');
}

/** True when Debian's python3-torch is installed; otherwise skips the test (fails it under CI). */
export function needTorch(t: Skippable): boolean {
  return torchAvailable() || missingPackage(t, 'python3-torch');
}
