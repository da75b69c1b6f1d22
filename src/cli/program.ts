/**
 * @file The `kilosecond` program with every command registered, one file per command under
 * src/cli/, each exporting `register(program)`; main.ts runs it, tests read its options.
 */
import { Command } from 'commander';
import * as bench from './bench.js';
import * as evaluate from './eval.js';
import * as explain from './explain.js';
import * as exportCommand from './export.js';
import * as precompute from './precompute.js';
import * as predict from './predict.js';
import * as selftest from './selftest.js';
import * as show from './show.js';
import * as train from './train.js';
import * as web from './web.js';

export function createProgram(): Command {
  const program = new Command()
    .name('kilosecond')
    .description('Train near-state-of-the-art image classifiers in under 1000 seconds, and show why they work.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const commands: Array<{ register(p: Command): void }> = [train, evaluate, predict, precompute, explain, exportCommand, show, selftest, bench, web];
  for (const c of commands) c.register(program);
  return program;
}
