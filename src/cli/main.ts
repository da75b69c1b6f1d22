/**
 * @file The `kilosecond` command line: runs the program (program.ts) and turns user mistakes into
 * a clear message, naming the flags to type, and a non-zero exit, never a stack trace.
 */
import { CommanderError } from 'commander';
import { UserError } from '../core/errors.js';
import { commandLineMessage } from './flags.js';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof UserError) {
    process.stderr.write(`kilosecond: ${commandLineMessage(err)}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
