// Puts the addon that node-gyp built into prebuilds/<platform>-<arch>/, where node-gyp-build
// looks inside an installed package, so that installing kilosecond needs no compiler. Run at
// pack time (the prepack script). One x86-64 binary serves every CPU: binding.gyp compiles each
// ISA's kernels with only its own flags and native/dispatch.cc picks one by CPUID at run time.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const built = join('build', 'Release', 'kilosecond.node');
const fail = (why) => {
  console.error(`prebuild: ${why}; build it first: npx node-gyp rebuild`);
  process.exit(1);
};

let builtAt;
try {
  builtAt = statSync(built).mtimeMs;
} catch {
  fail(`${built} is missing`);
}
// A binary older than its sources would ship kernels that the tests never ran.
const sources = ['binding.gyp', ...readdirSync('native', { recursive: true }).filter((f) => /\.(cc|h|inc)$/.test(f)).map((f) => join('native', f))];
const newer = sources.filter((f) => statSync(f).mtimeMs > builtAt);
if (newer.length > 0) fail(`${built} is older than ${newer.slice(0, 3).join(', ')}`);
// Loading it here, where it was built, catches a broken link before it ships.
const isas = createRequire(import.meta.url)(join(process.cwd(), built)).supportedIsas();

const dir = join('prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(dir, { recursive: true });
copyFileSync(built, join(dir, 'kilosecond.node'));
console.log(`prebuild: ${built} -> ${join(dir, 'kilosecond.node')} (this CPU runs ${isas.join(', ')})`);
