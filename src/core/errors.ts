/**
 * @file Errors meant for people, not for debuggers.
 *
 * Throw `UserError` for anything the user can fix (a bad option, a missing or corrupt file, a
 * shape that does not match). The CLI prints its message, without a stack trace, and exits
 * non-zero. Any other exception is a bug in kilosecond and keeps its stack.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
