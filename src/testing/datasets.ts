/**
 * @file Tests that train on real data use Fashion-MNIST from Debian's dataset-fashion-mnist
 * package. Without it they skip, except under CI, which installs it (a skip there would hide
 * the most important tests).
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';

export const debianFashionMnist = '/usr/share/datasets/fashion-mnist';

/** True when Fashion-MNIST is installed; otherwise skips the test (fails it under CI). */
export function needFashionMnist(t: { skip(reason: string): void }): boolean {
  if (existsSync(debianFashionMnist)) return true;
  if (process.env.CI) assert.fail('dataset-fashion-mnist is not installed: CI must install it');
  t.skip('dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist)');
  return false;
}
