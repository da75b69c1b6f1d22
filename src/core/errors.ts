/**
 * @file Errors meant for people, not for debuggers.
 *
 * Throw `UserError` for anything the user can fix (a bad option, a missing or corrupt file, a
 * shape that does not match). The CLI prints its message, without a stack trace, and exits
 * non-zero. Any other exception is a bug in kilosecond and keeps its stack.
 *
 * A message names a setting as the caller wrote it. Below the CLI that is the option's field
 * (`batchSize`, `verify: false`), never a command-line flag: a program that calls the library has
 * no flags. The names stay structured (`setting`), so that the CLI can print the flag it reads
 * into each field instead (src/cli/flags.ts):
 *
 * ```ts
 * throw new UserError(msg`${setting('batchSize')} ${n}: must be a whole number of at least 1`);
 * // err.message: "batchSize 0: must be …"; `kilosecond train` prints "--batch-size 0: must be …"
 * ```
 */

export type SettingValue = string | number | boolean;

/** A setting named in a message: its field, and the value the message advises, if it advises one. */
export interface SettingRef {
  readonly field: string;
  readonly value?: SettingValue;
  /**
   * What a command-line flag for the setting takes, where that is not `value`: TrainConfig's
   * `resume: true` goes on with the run in `out`, so a flag that resumes takes that folder.
   */
  readonly argument?: string;
}

export type MessagePart = string | SettingRef;

export function setting(field: string, value?: SettingValue, argument?: string): SettingRef {
  return { field, ...(value === undefined ? {} : { value }), ...(argument === undefined ? {} : { argument }) };
}

/** A message made of text and the settings it names (see `msg`). */
export class Message {
  constructor(readonly parts: readonly MessagePart[]) {}

  /** The text as a program reads it: settings named by their fields. */
  toString(): string {
    return render(this.parts, fieldName);
  }
}

const isSettingRef = (v: unknown): v is SettingRef =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as SettingRef).field === 'string';

/**
 * A tagged template for messages: each `setting(...)` interpolated stays a setting, a `Message`
 * or a `UserError` is spliced in with its settings, and anything else becomes text.
 */
export function msg(strings: TemplateStringsArray, ...values: unknown[]): Message {
  const parts: MessagePart[] = [];
  const add = (p: MessagePart) => {
    const last = parts.length - 1;
    if (typeof p !== 'string') parts.push(p);
    else if (typeof parts[last] === 'string') parts[last] += p;
    else if (p !== '') parts.push(p);
  };
  strings.forEach((text, i) => {
    add(text);
    if (i === values.length) return;
    const v = values[i];
    if (v instanceof Message || v instanceof UserError) v.parts.forEach(add);
    else if (isSettingRef(v)) add(v);
    else add(String(v));
  });
  return new Message(parts);
}

/** The messages one per line. */
export function lines(items: ReadonlyArray<string | Message>): Message {
  return items.reduce<Message>((m, line, i) => (i === 0 ? msg`${line}` : msg`${m}\n${line}`), msg``);
}

/** A setting as a program passes it: `lr`, `verify: false`, `backend: 'cpu'`. */
export function fieldName(s: SettingRef): string {
  if (s.value === undefined) return s.field;
  return `${s.field}: ${typeof s.value === 'string' ? `'${s.value}'` : String(s.value)}`;
}

/** How a caller names a setting; undefined leaves it to `fieldName`. */
export type SettingNamer = (s: SettingRef) => string | undefined;

function render(parts: readonly MessagePart[], name: SettingNamer): string {
  return parts.map((p) => (typeof p === 'string' ? p : name(p) ?? fieldName(p))).join('');
}

export class UserError extends Error {
  /** The message as text and settings, for a caller that names settings otherwise (the CLI, by flag). */
  readonly parts: readonly MessagePart[];

  constructor(message: string | Message) {
    const parts = typeof message === 'string' ? [message] : message.parts;
    super(render(parts, fieldName));
    this.name = 'UserError';
    this.parts = parts;
  }

  /** The settings the message names, in order. */
  get settings(): SettingRef[] {
    return this.parts.filter(isSettingRef);
  }

  /** The message with each setting named by `name`. */
  naming(name: SettingNamer): string {
    return render(this.parts, name);
  }
}
