/**
 * @file The `kilosecond` command line: one file per command under src/cli/, each exporting
 * `register(program)`. This file only wires them together and turns user mistakes into a
 * clear message and a non-zero exit, never a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { UserError } from '../core/errors.js';
import * as bench from './bench.js';
import * as evaluate from './eval.js';
import * as explain from './explain.js';
import * as exportCommand from './export.js';
import * as precompute from './precompute.js';
import * as predict from './predict.js';
import * as selftest from './selftest.js';
import * as show from './show.js';
import * as train from './train.js';

const program = new Command()
  .name('kilosecond')
  .description('Train near-state-of-the-art image classifiers in under 1000 seconds, and show why they work.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const commands: Array<{ register(p: Command): void }> = [train, evaluate, predict, precompute, explain, exportCommand, show, selftest, bench];
for (const c of commands) c.register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof UserError) {
    process.stderr.write(`kilosecond: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
