/**
 * @file Loads the native addon and types its surface. Only this folder touches the addon;
 * everything else sees a `Backend`.
 *
 * node-gyp-build finds the addon: `build/Release/kilosecond.node` when there is one (built from
 * source: by `npm ci` in a checkout, or by the install script where no prebuild fits), else the
 * binary shipped in the package, `prebuilds/<platform>-<arch>/kilosecond.node`
 * (scripts/prebuild.mjs). A build comes first so that a prebuild left over in a checkout never
 * shadows freshly compiled kernels; `KILOSECOND_PREBUILD=DIR` searches DIR instead of the package.
 * One x86-64 binary serves every CPU: the kernels pick AVX-512, AVX2 or scalar at run time.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.js';

export type Isa = 'avx512' | 'avx2' | 'scalar';
export const isaNames: readonly Isa[] = ['avx512', 'avx2', 'scalar'];

/** 'auto' picks Winograd F(4x4, 3x3) where it is faster, the direct kernel elsewhere. */
export type ConvAlgorithm = 'auto' | 'direct' | 'winograd2' | 'winograd4';
export const convAlgorithms: readonly ConvAlgorithm[] = ['auto', 'direct', 'winograd2', 'winograd4'];

/** One thread pool + scratch arena + the kernel table of one ISA. Methods run synchronously. */
export interface NativeContext {
  readonly isa: Isa;
  readonly threads: number;
  scratchBytes(): number;
  dispose(): void;
  conv3x3(x: Float32Array, w: Float32Array, y: Float32Array, n: number, h: number, width: number, cin: number, cout: number): void;
  conv3x3BackwardData(gy: Float32Array, w: Float32Array, gx: Float32Array, n: number, h: number, width: number, cin: number, cout: number): void;
  conv3x3BackwardFilter(x: Float32Array, gy: Float32Array, gw: Float32Array, n: number, h: number, width: number, cin: number, cout: number): void;
  batchNormTrain(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, invstd: Float32Array,
    runningMean: Float32Array, runningVar: Float32Array, momentum: number, rows: number, channels: number, eps: number, relu: boolean,
  ): void;
  batchNormEval(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, runningMean: Float32Array, runningVar: Float32Array, y: Float32Array,
    rows: number, channels: number, eps: number, relu: boolean,
  ): void;
  batchNormBackward(
    x: Float32Array, y: Float32Array, gy: Float32Array, gamma: Float32Array, mean: Float32Array, invstd: Float32Array,
    gx: Float32Array, ggamma: Float32Array, gbeta: Float32Array, rows: number, channels: number, eps: number, relu: boolean,
  ): void;
  maxPool2x2(x: Float32Array, y: Float32Array, n: number, h: number, w: number, c: number): void;
  maxPool2x2Backward(x: Float32Array, gy: Float32Array, gx: Float32Array, n: number, h: number, w: number, c: number): void;
  globalMaxPool(x: Float32Array, y: Float32Array, n: number, spatial: number, c: number): void;
  globalMaxPoolBackward(x: Float32Array, gy: Float32Array, gx: Float32Array, n: number, spatial: number, c: number): void;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): void;
  add(a: Float32Array, b: Float32Array, out: Float32Array, length: number): void;
  scale(a: Float32Array, alpha: number, out: Float32Array, length: number): void;
  crossEntropy(logits: Float32Array, labels: Float32Array, probs: Float32Array, loss: Float32Array, n: number, k: number, smoothing: number): void;
  crossEntropyBackward(probs: Float32Array, labels: Float32Array, gloss: Float32Array, glogits: Float32Array, n: number, k: number, smoothing: number): void;
  accumulateMetrics(logits: Float32Array, labels: Float32Array, stats: Float32Array, n: number, k: number): void;
  sgdStep(param: Float32Array, grad: Float32Array, velocity: Float32Array, length: number, lr: number, momentum: number, weightDecay: number, nesterov: boolean): void;
}

interface NativeAddon {
  Context: new (threads: number, isa: string, conv: ConvAlgorithm) => NativeContext;
  /** The ISAs this CPU runs, best first. */
  supportedIsas(): Isa[];
}

/** The folder holding package.json above this file (compiled code lives in dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** node-gyp-build ships no types; this is the one function used. */
interface NodeGypBuild {
  /** The addon's file for this platform, Node ABI and libc; throws when there is none. */
  path(packageDir: string): string;
}

/** Installing kilosecond does not need a compiler, so the addon may be absent: say how to get it. */
function howToBuild(root: string): string {
  return 'To build it: install a C++17 compiler, make and python3 (Debian, Ubuntu: sudo apt-get install build-essential python3), ' +
    `then run 'npm rebuild kilosecond' (in a checkout of kilosecond itself: 'npx node-gyp rebuild' in ${root}). ` +
    "The 'webgpu' and 'reference' backends work without it.";
}

let addon: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const root = packageRoot();
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = (require('node-gyp-build') as NodeGypBuild).path(root);
  } catch {
    throw new UserError(
      `the native CPU backend is not available: no prebuilt addon fits this machine (${process.platform}-${process.arch}) ` +
        `and none was built from source in ${root}. ${howToBuild(root)}`,
    );
  }
  try {
    addon = require(path) as NativeAddon;
  } catch (err) {
    // E.g. a prebuild linked against a newer glibc than this machine's.
    throw new UserError(`the native CPU backend cannot be loaded from ${path}: ${(err as Error).message}. ${howToBuild(root)}`);
  }
  return addon;
}
