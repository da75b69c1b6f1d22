/**
 * @file Where a command finds its dataset, the same flags for every command that reads one, so an
 * error's advice (`--data-dir`, `--no-verify`) holds whichever command printed it.
 */
import type { Command } from 'commander';
import type { LoadOptions } from '../data/load-dataset.js';

export interface DataFlags {
  dataDir?: string;
  /** false with --no-verify. */
  verify: boolean;
}

export function addDataOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'the only folder to look for (or download) the dataset files in')
    .option('--no-verify', "skip the check of the dataset files' md5s and image counts");
}

/** The loader's options that these flags set. */
export function dataLoadOptions(flags: DataFlags): Pick<LoadOptions, 'dataDir' | 'verify'> {
  return { ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }), verify: flags.verify };
}
