/**
 * @file The package as a user gets it. `npm pack` ships dist/ (declarations and shaders
 * included; tests and their helpers in dist/testing/ not), the native sources and the prebuilt
 * addon. An empty project that gets the tarball with no install script run, so nothing is
 * compiled, type-checks code that imports 'kilosecond' against the emitted declarations, trains
 * on the cpu backend with the prebuilt addon, runs the README's "Use it from TypeScript" examples,
 * and without the addon gets a UserError that says how to build it while the reference backend
 * works.
 *
 * npm does not install the tarball itself: resolving its dependencies offline needs their
 * registry metadata in npm's cache, which `npm ci` (which fetches by lockfile URL) does not leave
 * there. So the tarball is unpacked into node_modules/kilosecond, as npm would, and its
 * dependencies are links to the repository's installed ones.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { x as untar } from 'tar';
import { loadDataset } from './data/load-dataset.js';
import { writePngFolder } from './testing/image-folders.js';
import { repoRoot, sharedDir } from './testing/paths.js';

const exec = promisify(execFile);
/** Runs a command; a failure carries its output, which says what went wrong. */
async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    return (await exec(command, args, { cwd, env, maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const prebuild = `prebuilds/${process.platform}-${process.arch}/kilosecond.node`;

/** What the project imports: the public API, against the emitted declarations. */
const libraryCheck = `
import { strict as assert } from 'node:assert';
import { createBackend, imageFilesIn, loadModel, predictFiles, recipe, train, UserError } from 'kilosecond';

// The native backend starts: its addon is the prebuild inside the package, nothing was compiled.
const backend = await createBackend('cpu');
const result = await train({ ...recipe, dataset: 'photos', out: 'runs/check', epochs: 1, width: 4, batchSize: 32, augment: 'none' });
assert.equal(result.history.length, 1);
assert.match(result.backendName, /^cpu/);

const model = await loadModel(result.checkpoint, { backend });
assert.deepEqual(model.meta.inputSize, [28, 28]);
const predictions = await model.predict(result.test, { topK: 2 });
assert.equal(predictions.length, result.test.count);
assert.equal(predictions[0]!.top.length, 2);
// The same held-out images read from their files, decoded as the checkpoint records.
assert.equal(imageFilesIn(['photos']).length, 200);
const fromFiles = await predictFiles(result.checkpoint, result.folder!.scan.test.map((f) => f.path), backend, { topK: 2, batchSize: 8 });
assert.equal(fromFiles.length, predictions.length);
fromFiles.forEach((p, i) => p.logits.forEach((v, c) => assert.ok(Math.abs(v - predictions[i]!.logits[c]!) < 1e-4, \`\${p.file} logit \${c}\`)));
const tested = await model.evaluate(result.test);
assert.equal(tested.count, result.test.count);
// The trainer's own last evaluation, on the same images with the same weights.
assert.ok(Math.abs(tested.accuracy - result.testAccuracy) < 1e-6, \`\${tested.accuracy} vs \${result.testAccuracy}\`);
const maps = await model.explain(result.test);
assert.equal(maps[0]!.map.length, 28 * 28);
await assert.rejects(model.predict({ ...result.test, height: 32, width: 32 }), UserError);
model.dispose();
await assert.rejects(model.predict(result.test), UserError);
backend.dispose(); // the caller's: loadModel leaves it alone
await assert.rejects(train({ ...recipe, dataset: 'no-such-dataset', out: 'runs/none' }), UserError);
console.log(JSON.stringify({ backend: result.backendName, images: result.test.count, accuracy: tested.accuracy }));
`;

/** Run after the prebuild is taken away: a machine where it does not fit and nothing could be compiled. */
const noAddonCheck = `
import { strict as assert } from 'node:assert';
import { createBackend, UserError } from 'kilosecond';

await assert.rejects(createBackend('cpu'), (err: unknown) =>
  err instanceof UserError && /build-essential/.test(err.message) && /npm rebuild kilosecond/.test(err.message));
(await createBackend('reference')).dispose();
`;

/** The README's TypeScript blocks under "## Use it from TypeScript": `train`'s example, then `fit`'s. */
async function readmeExamples(): Promise<[string, string]> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use it from TypeScript\n'));
  assert.ok(section, 'README.md has a section "## Use it from TypeScript"');
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(blocks.length, 2, "that section has two ```ts blocks: train's example and fit's");
  return [blocks[0]!, blocks[1]!];
}

describe('the npm package', { timeout: 10 * 60_000 }, () => {
  let dir: string;
  let project: string;
  let files: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kilosecond-package-'));
    project = join(dir, 'project');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('packs dist/ with its declarations and shaders, the native sources and the prebuilt addon, and no tests', async (t) => {
    if (!existsSync(join(repoRoot, 'build', 'Release', 'kilosecond.node'))) {
      // CI builds the addon at npm ci; only there must the prebuild exist.
      if (process.env.CI) assert.fail('build/Release/kilosecond.node is missing: CI must build the addon');
      return t.skip('the native addon is not built here (npx node-gyp rebuild)');
    }
    // `prepack` puts the prebuild in place; --ignore-scripts (so that dist/ is not rebuilt) skips it.
    const madePrebuilds = !existsSync(join(repoRoot, 'prebuilds'));
    let packed: Array<{ filename: string; size: number; entryCount: number; files: Array<{ path: string }> }>;
    try {
      await run(process.execPath, ['scripts/prebuild.mjs'], repoRoot);
      packed = JSON.parse(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repoRoot));
    } finally {
      if (madePrebuilds) await rm(join(repoRoot, 'prebuilds'), { recursive: true, force: true });
    }
    const [{ filename, size, entryCount }] = packed;
    files = packed[0]!.files.map((f) => f.path);
    t.diagnostic(`${filename}: ${(size / 2 ** 20).toFixed(2)} MiB, ${entryCount} files`);
    assert.deepEqual(files.filter((f) => /\.test\.|\.map$|^src\/|^dist\/testing\//.test(f)), [], 'no tests, test helpers, source maps or TypeScript sources');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/library/model.d.ts', 'dist/backends/webgpu/shaders/sources.generated.js', 'dist/web/index.html', 'dist/web/train-worker.js', prebuild,
      'bin/kilosecond.js', 'binding.gyp', 'native/addon.cc', 'package.json', 'README.md']) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }

    await mkdir(join(project, 'node_modules', 'kilosecond'), { recursive: true });
    await untar({ file: join(dir, filename), cwd: join(project, 'node_modules', 'kilosecond'), strip: 1 });
  });

  it('installed without install scripts, code that imports it type-checks against the declarations and compiles', async (t) => {
    if (files.length === 0) return t.skip('nothing was packed');
    await run('npm', ['init', '-y'], project);
    const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
    await writeFile(join(project, 'package.json'), JSON.stringify({ ...manifest, type: 'module' }, null, 2));
    const installed = JSON.parse(await readFile(join(project, 'node_modules', 'kilosecond', 'package.json'), 'utf8'));
    // @types/node: what any TypeScript project on Node has beside its dependencies.
    for (const name of [...Object.keys(installed.dependencies as Record<string, string>), '@types/node']) {
      await mkdir(dirname(join(project, 'node_modules', name)), { recursive: true });
      await symlink(join(repoRoot, 'node_modules', name), join(project, 'node_modules', name), 'dir');
    }
    const [readme, fitExample] = await readmeExamples();
    const small = readme.replace('budget: 600', "epochs: 1, width: 4, batchSize: 32, augment: 'none'");
    assert.notEqual(small, readme, "the README example trains with 'budget: 600', which the test replaces by one epoch");
    await writeFile(join(project, 'check.ts'), libraryCheck);
    await writeFile(join(project, 'no-addon.ts'), noAddonCheck);
    await writeFile(join(project, 'readme.ts'), small);
    await writeFile(join(project, 'readme-fit.ts'), fitExample);
    // Compiled files run in out/: with --noEmitOnError nothing is written unless all of it type-checks.
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--noEmitOnError', '--outDir', 'out', 'check.ts', 'no-addon.ts', 'readme.ts', 'readme-fit.ts'], project);
  });

  // HOME in the temporary folder: the image folder's decode cache goes there, not into the user's.
  // KILOSECOND_PREBUILD would point node-gyp-build elsewhere.
  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, HOME: dir };
    delete e.KILOSECOND_PREBUILD;
    return e;
  };

  it('trains on the cpu backend with the prebuilt addon, then predicts, evaluates and explains with loadModel', async (t) => {
    if (!existsSync(join(project, 'out', 'check.js'))) return t.skip('nothing was compiled');
    assert.ok(!existsSync(join(project, 'node_modules', 'kilosecond', 'build')), 'no addon was built in the installed package');
    // 200 MNIST test digits as PNGs, 20 a class: the folder the README trains on, 10% held out.
    const { info, test } = await loadDataset('mnist', { dataDir: join(sharedDir, 'data', 'mnist'), split: 'test' });
    await writePngFolder(join(project, 'photos'), test!, info.classes, 200);
    t.diagnostic((await run(process.execPath, ['out/check.js'], project, env())).trim());
  });

  it("runs the README's TypeScript example", async (t) => {
    if (!existsSync(join(project, 'out', 'readme.js'))) return t.skip('nothing was compiled');
    const output = await run(process.execPath, ['out/readme.js'], project, env());
    t.diagnostic(output.trim().split('\n').slice(-3).join(' | '));
    assert.match(output, /epoch 1\/1: test accuracy/);
    assert.match(output, /test accuracy \d+\.\d\d%/);
  });

  it("runs the README's fit example: a network trained on arrays in memory, without a run folder", async (t) => {
    if (!existsSync(join(project, 'out', 'readme-fit.js'))) return t.skip('nothing was compiled');
    const before = await readdir(project);
    const output = await run(process.execPath, ['out/readme-fit.js'], project, env());
    t.diagnostic(output.trim().split('\n').join(' | '));
    const accuracies = [...output.matchAll(/epoch (\d)\/3: test accuracy (\d+\.\d)%/g)].map((m) => Number(m[2]));
    assert.equal(accuracies.length, 3, 'three epochs reported');
    // Chance is 50%; the square's side decides the class, which three epochs learn.
    assert.ok(accuracies[2]! >= 90, `final test accuracy ${accuracies[2]}%`);
    assert.match(output, /confusion matrix \[\[\d+,\d+\],\[\d+,\d+\]\]/);
    assert.deepEqual(await readdir(project), before, 'fit wrote nothing beside the project');
  });

  it('without a usable addon, the cpu backend is a UserError that says how to build it; reference works', async (t) => {
    if (!existsSync(join(project, 'out', 'no-addon.js'))) return t.skip('nothing was compiled');
    const installed = join(project, 'node_modules', 'kilosecond');
    await rename(join(installed, 'prebuilds'), join(installed, 'prebuilds-elsewhere'));
    await run(process.execPath, ['out/no-addon.js'], project, env());
  });
});
