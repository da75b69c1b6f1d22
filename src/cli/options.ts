/**
 * @file Option parsers shared by the commands: each names the option in its error.
 */
import { InvalidArgumentError } from 'commander';

export function positiveInt(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${option} takes a whole number above 0, not '${value}'.`);
    return n;
  };
}

export function nonNegativeNumber(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${option} takes a number of 0 or more, not '${value}'.`);
    return n;
  };
}
