/**
 * @file docs/adding-an-op.md, proven: this test adds a `negate` op (out = -a) to a copy of the
 * sources through the documented steps and shows that skipping any one of them fails with a
 * message that names it.
 *
 * The steps the compiler guards are type-checked in memory with the TypeScript compiler API:
 * once with every step, which must compile cleanly, and once per skipped step, which must
 * report the expected error in the expected file. Two steps are guarded at run time, and
 * a patched tree is compiled to a temporary folder to show them: its conformance cases lack
 * `negate`, and the native addon (not rebuilt) lacks it. The completeness test fails, naming
 * it, and so does creating a CPU backend. The one native step left is a kernel listed in
 * KS_KERNELS but never defined, which the C++ compiler refuses by name; it is not rebuilt here.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { repoRoot } from '../testing/paths.js';

type Step = 'declaration' | 'reference' | 'webgpu' | 'op' | 'backward' | 'gradient check' | 'kernel cases';

interface Edit {
  step: Step;
  file: string;
  /** Text the edit replaces (the anchor is kept when `after` is set: the text goes after it). */
  anchor: string;
  text: string;
  after?: boolean;
}

const edits: Edit[] = [
  {
    step: 'declaration', file: 'src/core/kernels.ts', after: true,
    anchor: "    params: { alpha: 'number', length: 'size' },\n  },\n",
    text: "  /** out = -a over the first `length` elements. */\n  negate: {\n    buffers: { a: read('length'), out: write('length') },\n    params: { length: 'size' },\n  },\n",
  },
  {
    step: 'reference', file: 'src/backends/reference/index.ts', after: true,
    anchor: 'const referenceKernels: KernelImplementations<HostArray> = {\n',
    text: '  negate({ a, out }, { length }) {\n    for (let i = 0; i < length; i++) out[i] = -a[i]!;\n  },\n',
  },
  {
    step: 'webgpu', file: 'src/backends/webgpu/elementwise.ts',
    anchor: "export const elementwiseKernels: GpuKernels<'add' | 'scale' | 'sgdStep'> = {\n",
    text: "export const elementwiseKernels: GpuKernels<'add' | 'scale' | 'sgdStep' | 'negate'> = {\n" +
      '  negate(ctx, { a, out }, { length }) {\n' +
      '    ctx.stream.dispatch(scaleKernel, [a, out], uniforms([length], [-1]), grid1d(length));\n  },\n',
  },
  {
    step: 'op', file: 'src/core/ops/dense.ts', after: true,
    anchor: "import { expectShape, type Tensor } from '../tensor.js';\n",
    text: "\nexport const negate = defineOp('negate', (g, x: Tensor) => {\n" +
      '  const out = g.empty(x.shape);\n' +
      '  g.backend.negate({ a: x.buffer, out: out.buffer }, { length: x.size });\n' +
      '  return {\n    inputs: [x], output: out, saves: [],\n' +
      '    /* backward */ backward: (gy) => {\n' +
      '      const gx = g.empty(x.shape);\n' +
      '      g.backend.negate({ a: gy.buffer, out: gx.buffer }, { length: gx.size });\n' +
      '      return [gx];\n    },\n  };\n});\n',
  },
  {
    step: 'op', file: 'src/core/ops/index.ts', after: true,
    anchor: "import type { Op } from '../op.js';\n", text: "import { negate } from './dense.js';\n",
  },
  { step: 'op', file: 'src/core/ops/index.ts', after: true, anchor: 'export const ops = {\n', text: '  negate,\n' },
  {
    step: 'gradient check', file: 'src/core/ops/gradients.test.ts', after: true,
    anchor: "  scale: [{ name: '[7] * -1.3', inputs: [random([7])], run: (g, [x]) => ops.scale(g, x!, -1.3) }],\n",
    text: "  negate: [{ name: '[7]', inputs: [random([7])], run: (g, [x]) => ops.negate(g, x!) }],\n",
  },
  {
    step: 'kernel cases', file: 'src/testing/kernel-cases.ts', after: true,
    anchor: '    const cases: KernelCase[] = [\n',
    text: "      { name: name('negate'), inputs: { a }, outputs: { out: length }, run: (k, u) => k.negate({ a: u.a!, out: u.out! }, { length }), tolerance: {} },\n",
  },
];

/** The sources with every edit applied except those of `skip`; 'backward' drops the op's backward only. */
function patchedSources(skip: Step | undefined): Map<string, string> {
  const files = new Map<string, string>();
  for (const edit of edits) {
    const path = resolve(repoRoot, edit.file);
    const source = files.get(path) ?? readFileSync(path, 'utf8');
    assert.ok(source.includes(edit.anchor), `${edit.file} no longer holds the anchor of the '${edit.step}' step: update this test and docs/adding-an-op.md`);
    let text = edit.text;
    if (edit.step === skip) text = '';
    if (skip === 'backward' && edit.step === 'op') text = text.replace(/ {4}\/\* backward \*\/[\s\S]*?\n {4}\},\n/, '');
    // A skipped replacement keeps its anchor; a skipped insertion inserts nothing.
    const replacement = edit.after ? edit.anchor + text : text || edit.anchor;
    files.set(path, source.replace(edit.anchor, () => replacement));
  }
  return files;
}

const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, 'tsconfig.json'), {}, {
  ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
})!;

let previous: ts.Program | undefined;

function programWith(files: Map<string, string>, options: ts.CompilerOptions = config.options): ts.Program {
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(resolve(name)) ?? readFile(name);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, onError) => {
    const patched = files.get(resolve(name));
    return patched === undefined ? getSourceFile(name, language, onError) : ts.createSourceFile(name, patched, language, true);
  };
  previous = ts.createProgram({ rootNames: config.fileNames, options, host, oldProgram: previous });
  return previous;
}

/** The files an edit touches or a skipped step breaks: checking them alone keeps this test quick. */
const checked = [...new Set([...edits.map((e) => e.file), 'src/backends/webgpu/index.ts', 'src/backends/cpu/index.ts'])];

/** "file: message" for every error in the checked files. */
function errors(skip: Step | undefined): string[] {
  const program = programWith(patchedSources(skip));
  return checked.flatMap((file) => {
    const source = program.getSourceFile(resolve(repoRoot, file))!;
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
      .map((d) => `${file}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  });
}

describe('adding an op as docs/adding-an-op.md says', () => {
  it('compiles with every step', () => {
    assert.deepEqual(errors(undefined), []);
  });

  /** TypeScript's words for a missing property: one alone, or one of several. */
  const missing = (name: string): string => `(Property '${name}' is missing in type|is missing the following properties from type .*: (.*, )?${name}\\b)`;
  const compileErrors: Array<[Step, RegExp]> = [
    ['declaration', /src\/backends\/reference\/index.ts: .*'negate' does not exist in type 'KernelImplementations<HostArray>'/],
    ['reference', new RegExp(`src/backends/reference/index.ts: .*${missing('negate')}`)],
    ['webgpu', new RegExp(`src/backends/webgpu/index.ts: .*${missing('negate')}`)],
    ['backward', new RegExp(`src/core/ops/dense.ts: .*${missing('backward')}`)],
    ['gradient check', new RegExp(`src/core/ops/gradients.test.ts: .*${missing('negate')}`)],
  ];
  for (const [step, expected] of compileErrors) {
    it(`fails to compile without the ${step} step, naming it`, () => {
      const found = errors(step);
      assert.ok(found.some((e) => expected.test(e)), `expected ${expected} among:\n${found.join('\n')}`);
    });
  }

  describe('the steps checked at run time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kilosecond-adding-an-op-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    // The sources without the kernel cases, compiled into `dir`: a package that finds the unpatched addon.
    before(() => {
      const program = programWith(patchedSources('kernel cases'), {
        ...config.options, outDir: join(dir, 'dist'), declaration: false, sourceMap: false,
      });
      const result = program.emit();
      assert.deepEqual(result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')), []);
      copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
      symlinkSync(join(repoRoot, 'build'), join(dir, 'build'));
    });

    it('the conformance-case completeness test names a kernel without cases', () => {
      // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of printing.
      const { NODE_TEST_CONTEXT: _, ...env } = process.env;
      const run = spawnSync(process.execPath, ['--test', join(dir, 'dist/testing/kernel-cases.test.js')], { encoding: 'utf8', env });
      assert.notEqual(run.status, 0, run.stdout);
      assert.match(run.stdout, /every declared kernel has conformance cases/);
      assert.match(run.stdout, /'negate'/);
    });

    it('the native addon refuses to load without the kernel, naming it', () => {
      const script = `import { createCpuBackend } from ${JSON.stringify(join(dir, 'dist/backends/cpu/index.js'))}; createCpuBackend();`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, /kernel 'negate' is declared in src\/core\/kernels.ts but the native addon has no kernel 'negate': add it to KS_KERNELS in native\/kernels.h/);
    });
  });
});
