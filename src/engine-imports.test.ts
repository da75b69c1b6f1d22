/**
 * @file The engine runs anywhere (issue 24): the modules tsconfig.web.json lists (core, nn, optim,
 * the reference and WebGPU backends, the training loop and what it calls, Grad-CAM, the checkpoint
 * and ONNX bytes) reach nothing of Node, so that a web page bundles them and trains in a browser
 * worker with the same engine. Two checks: the compiled imports, followed from those modules,
 * reach no Node built-in and no package outside `portablePackages`, and a failure names the chain
 * of imports that gets there; and the modules type-check with a browser worker's globals and
 * without Node's, which also catches `process` and `Buffer`.
 *
 * Here, beside package.test.ts, because it guards the whole tree's layout rather than one folder.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { repoRoot } from './testing/paths.js';

/** Packages that run in a browser as they do in Node. */
const portablePackages = new Set(['protobufjs']);

const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, 'tsconfig.web.json'), {}, {
  ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
})!;

const src = join(repoRoot, 'src');
const dist = join(repoRoot, 'dist');
const compiled = (source: string): string => join(dist, relative(src, source)).replace(/\.ts$/, '.js');
const sourceName = (file: string): string => join('src', relative(dist, file)).replace(/\.js$/, '.ts');

/** '@scope/name/sub' -> '@scope/name', 'name/sub' -> 'name'. */
const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const isNode = (specifier: string): boolean => specifier.startsWith('node:') || builtinModules.includes(specifier);

/** What a compiled module imports when it runs: imports, re-exports and import() of a literal. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

describe('the engine imports nothing of Node', () => {
  it('lists the training loop, the networks and the WebGPU backend among the modules a page bundles', () => {
    assert.deepEqual(config.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')), []);
    const listed = config.fileNames.map((f) => relative(repoRoot, f));
    for (const f of ['src/train/fit.ts', 'src/nn/network.ts', 'src/backends/webgpu/index.ts']) assert.ok(listed.includes(f), f);
  });

  it('follows every import from them without reaching a Node module or a Node-only package', () => {
    // Breadth first, so that the chain named for an offence is a shortest one.
    const importer = new Map<string, string | undefined>(config.fileNames.map((f) => [compiled(f), undefined]));
    const queue = [...importer.keys()];
    const chain = (file: string): string => {
      const names: string[] = [];
      for (let f: string | undefined = file; f !== undefined; f = importer.get(f)) names.unshift(sourceName(f));
      return names.join(' -> ');
    };
    const offences: string[] = [];
    for (const file of queue) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          if (!importer.has(target)) {
            importer.set(target, file);
            queue.push(target);
          }
        } else if (isNode(specifier) || !portablePackages.has(packageOf(specifier))) {
          offences.push(`${chain(file)} -> ${specifier}`);
        }
      }
    }
    assert.deepEqual(offences, [], `imports a web page cannot bundle:\n${offences.join('\n')}`);
  });

  it("type-checks with a browser worker's globals and without Node's", () => {
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => repoRoot, getNewLine: () => '\n' };
    const errors = ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), host);
    assert.equal(errors, '', errors);
    // A declaration file that pulls in Node's types would make `process` and `Buffer` pass unseen.
    const nodeTypes = program.getSourceFiles().filter((f) => f.fileName.includes('/node_modules/@types/node/'));
    assert.deepEqual(nodeTypes.map((f) => f.fileName), [], "Node's types came into the program");
  });
});
