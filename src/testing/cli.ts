/**
 * @file Running the `kilosecond` command line from tests, and what a failing command must look
 * like to a user: a message on stderr, never a stack trace.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

export const cli = join(repoRoot, 'bin', 'kilosecond.js');

/** Runs `kilosecond <args>` to completion; rejects with the exit code and output when it fails. */
export const runCli = (args: readonly string[]) => promisify(execFile)(process.execPath, [cli, ...args], { maxBuffer: 1 << 24 });

/** Runs a command that must fail; returns its exit code and stderr, which holds no stack trace. */
export async function cliFailure(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  try {
    await runCli(args);
  } catch (err) {
    const e = err as { code: number; stderr: string };
    assert.doesNotMatch(e.stderr, /\n\s+at /, 'no stack trace');
    return e;
  }
  return assert.fail(`kilosecond ${args.join(' ')} succeeded`);
}
