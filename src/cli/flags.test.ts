/**
 * @file CLI words stay in src/cli/: below it errors name the setting a program passed (`lr`,
 * `padMode`), and the command line prints the flag that sets it (`--lr`, `--pad-mode`). That a
 * command's advice names its own flags is advice.test.ts's part.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Command } from 'commander';
import ts from 'typescript';
import { msg, setting, UserError } from '../core/errors.js';
import { defaultAugment, validateAugment } from '../data/augment.js';
import { datasetInfo } from '../data/datasets.js';
import { encodeIdx } from '../data/idx.js';
import { createTrainLoader } from '../data/loader.js';
import { sourceSpecs } from '../data/sources.js';
import { oneCycle } from '../optim/schedule.js';
import { repoRoot } from '../testing/paths.js';
import { train } from '../train/trainer.js';
import { recipe } from '../train/settings.js';
import { commandLineMessage, settingFlags } from './flags.js';
import { createProgram } from './program.js';

const flagWord = /(?<![\w-])--[a-z][a-z0-9-]*/g;

/** The UserError `f` throws. */
function userErrorOf(f: () => unknown): UserError {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    return err;
  }
  return assert.fail('no error');
}

/** Every command and subcommand of the program, by its path (`bench engine`). */
function commandsOf(c: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return c.commands.flatMap((sub) => [{ path: [...path, sub.name()], command: sub }, ...commandsOf(sub, [...path, sub.name()])]);
}

const commands = commandsOf(createProgram());

describe('library errors name fields, the command line flags', () => {
  const library = [
    { what: 'the schedule', error: () => oneCycle({ peak: -1, peakEpoch: 5, epochs: 2, stepsPerEpoch: 1 }), field: /^lr must be positive/, flag: /^--lr must be positive/ },
    { what: 'the augmentation', error: () => validateAugment({ ...defaultAugment, padMode: 'edge' as 'zero' }, 28, 28), field: /^padMode edge:/, flag: /^--pad-mode edge:/ },
    {
      what: 'the loader',
      error: () => createTrainLoader({ mode: 'none', info: datasetInfo('mnist'), train: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0, height: 28, width: 28, channels: 1 }, batchSize: 0 }),
      field: /^batchSize 0:/, flag: /^--batch-size 0:/,
    },
  ];
  for (const c of library) {
    it(`${c.what}: the message names the field, the command line its flag`, () => {
      const err = userErrorOf(c.error);
      assert.match(err.message, c.field);
      assert.doesNotMatch(err.message, flagWord);
      assert.match(commandLineMessage(err), c.flag);
    });
  }

  it('train: a file that fails verification advises TrainConfig\'s field (verifyData), the command line --no-verify', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kilosecond-flags-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    for (const f of sourceSpecs.mnist.files) await writeFile(join(dir, f.name), gzipSync(encodeIdx([1], new Uint8Array(1))));
    await assert.rejects(train({ ...recipe, dataset: 'mnist', dataDir: dir, out: join(dir, 'run') }), (err: unknown) => {
      assert.ok(err instanceof UserError, String(err));
      assert.match(err.message, /md5 .*, or pass verifyData: false to use it anyway$/);
      assert.match(commandLineMessage(err), /md5 .*, or pass --no-verify to use it anyway$/);
      return true;
    });
  });

  it('advice with a value reads as a program sets it, and as a user types it', () => {
    const err = new UserError(msg`pass ${setting('verify', false)}, ${setting('backend', 'cpu')} or ${setting('resume', true, 'runs/a')}; ${setting('workers')} has no flag`);
    assert.equal(err.message, "pass verify: false, backend: 'cpu' or resume: true; workers has no flag");
    assert.equal(commandLineMessage(err), 'pass --no-verify, --backend cpu or --resume runs/a; workers has no flag');
    assert.deepEqual(err.settings.map((s) => s.field), ['verify', 'backend', 'resume', 'workers']);
  });

  it('a message spliced into another keeps its settings', () => {
    const inner = new UserError(msg`${setting('epochs')} 0: too few`);
    assert.equal(commandLineMessage(new UserError(msg`${inner}\nmore`)), '--epochs 0: too few\nmore');
  });

  it('every flag of the table is an option of some command', () => {
    const all = new Set(commands.flatMap((c) => c.command.options.map((o) => o.long)));
    for (const [field, flag] of Object.entries(settingFlags)) if (flag !== null) assert.ok(all.has(flag), `${field}: no command has ${flag}`);
  });
});

describe('no flag words below the command line', () => {
  /** Strings and template pieces of a source file that hold a flag, and the fields its `setting(...)` calls name. */
  function scan(file: string, source: string): { flags: string[]; fields: string[] } {
    const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
    const flags: string[] = [];
    const fields: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
        for (const m of node.text.matchAll(flagWord)) flags.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${m[0]}`);
      }
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'setting') {
        const [field] = node.arguments;
        assert.ok(field && ts.isStringLiteral(field), `${file}: setting() takes its field as a string literal, so that this test can check it`);
        fields.push(field.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    return { flags, fields };
  }

  /** The library's sources: all but the command line, the tests, and `npm run bench`, which runs the command line. */
  async function librarySources(): Promise<string[]> {
    const src = join(repoRoot, 'src');
    const files = (await readdir(src, { recursive: true })).map((f) => join(src, f)).filter((f) => f.endsWith('.ts'));
    return files.filter((f) => {
      const rel = relative(src, f);
      return !rel.endsWith('.test.ts') && !rel.startsWith('cli/') && !rel.startsWith('testing/') && rel !== 'bench/main.ts';
    });
  }

  it('finds a flag in an error string, and not in a comment', () => {
    const found = scan('x.ts', "// --in-a-comment\nthrow new UserError(`--lr ${lr}: bad`);\nthrow new UserError(msg`${setting('lr')} ${x} or --pad`);");
    assert.deepEqual(found, { flags: ['x.ts:2: --lr', 'x.ts:3: --pad'], fields: ['lr'] });
  });

  it('library strings hold no flag, and every setting they name has an entry in the table', async () => {
    const sources = await librarySources();
    assert.ok(sources.length > 50, `only ${sources.length} sources found`);
    const flags: string[] = [];
    const unknown: string[] = [];
    for (const file of sources) {
      const found = scan(relative(repoRoot, file), await readFile(file, 'utf8'));
      flags.push(...found.flags);
      unknown.push(...found.fields.filter((f) => !(f in settingFlags)).map((f) => `${relative(repoRoot, file)}: ${f}`));
    }
    assert.deepEqual(flags, [], 'name the setting with setting(field) instead');
    assert.deepEqual(unknown, [], 'add these fields to settingFlags in src/cli/flags.ts');
  });
});
