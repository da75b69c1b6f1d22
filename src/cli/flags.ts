/**
 * @file Library words to command-line words: the one table from the settings that errors below
 * the CLI name (`batchSize`, `verify: false`) to the flags a user types (`--batch-size`,
 * `--no-verify`), and the message a command prints with them. advice.test.ts checks that the
 * flags each command advises are its own.
 */
import type { SettingRef, UserError } from '../core/errors.js';

/**
 * The flag that sets each field; for a boolean, the flag that sets the value errors advise.
 * null: no flag sets it (a library-only setting), so the message names the field.
 */
export const settingFlags: Readonly<Record<string, string | null>> = {
  backend: '--backend',
  batchSize: '--batch-size',
  budget: '--budget',
  cutout: '--cutout',
  cutoutCount: '--cutout-count',
  dataDir: '--data-dir',
  dataset: '--dataset',
  epochs: '--epochs',
  imageSize: '--image-size',
  images: '--images',
  lr: '--lr',
  maxMemoryGb: '--max-memory',
  onlyClass: '--class',
  out: '--out',
  outDir: '--out',
  overwrite: '--force',
  pad: '--pad',
  padMode: '--pad-mode',
  precision: '--precision',
  recipe: '--recipe',
  readAhead: null,
  resume: '--resume',
  seed: '--seed',
  shardSize: '--shard-size',
  skipBadImages: '--skip-bad-images',
  split: '--split',
  testSplit: '--test-split',
  verify: '--no-verify',
  verifyData: '--no-verify',
  width: '--width',
  workers: null,
};

/** A setting as a user types it (`--pad-mode`, `--backend cpu`); undefined where no flag sets it. */
export function flagFor(s: SettingRef): string | undefined {
  const flag = settingFlags[s.field];
  if (!flag) return undefined;
  const argument = s.argument ?? (s.value === undefined || typeof s.value === 'boolean' ? undefined : String(s.value));
  return argument === undefined ? flag : `${flag} ${argument}`;
}

/** What a command prints for a UserError: its message, with the flags for the settings it names. */
export function commandLineMessage(err: UserError): string {
  return err.naming(flagFor);
}
