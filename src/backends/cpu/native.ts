/**
 * @file Loads the native addon and types its surface. Only this folder touches the addon:
 * everything else sees a `Backend`, or, for the JPEG decoder the addon also carries
 * (native/jpeg.cc, used by src/data/folder), `jpegReader()`.
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
import type { Precision } from '../../core/precision.js';
import {
  type Access, type KernelDeclaration, kernelDeclarations, kernelNames, lengthFactors, type ParamKind, paramNames,
} from '../../core/kernels.js';

/**
 * The kernel tables, best first within each precision: 'amx' (AMX tiles) and 'avx512bf16'
 * (VDPBF16PS) run the convolutions in bf16 (docs/precision.md), the others in float32.
 */
export type Isa = 'amx' | 'avx512bf16' | 'avx512' | 'avx2' | 'scalar';
export const isaNames: readonly Isa[] = ['amx', 'avx512bf16', 'avx512', 'avx2', 'scalar'];

/** The precision of an ISA's kernel table. */
export function isaPrecision(isa: Isa): Precision {
  return isa === 'amx' || isa === 'avx512bf16' ? 'bf16' : 'fp32';
}

/** 'auto' picks Winograd F(4x4, 3x3) where it is faster, the direct kernel elsewhere. */
export type ConvAlgorithm = 'auto' | 'direct' | 'winograd2' | 'winograd4';
export const convAlgorithms: readonly ConvAlgorithm[] = ['auto', 'direct', 'winograd2', 'winograd4'];

/** One thread pool + scratch arena + the kernel table of one ISA. Methods run synchronously. */
export interface NativeContext {
  readonly isa: Isa;
  readonly threads: number;
  scratchBytes(): number;
  dispose(): void;
  /**
   * Runs declared kernel number `kernel` (its index in the declarations the context was made
   * with) on its buffers, then its scalars, each in declared order.
   */
  run(kernel: number, ...args: Array<Float32Array | number | boolean>): void;
}

/** A kernel declaration in the form the addon reads (native/addon.cc, bind_declarations). */
export interface NativeDeclaration {
  /** The declared name, for messages. */
  name: string;
  /** The C++ kernel's name in KS_KERNELS (native/kernels.h). */
  native: string;
  buffers: Array<{ name: string; access: Access; length: Array<[param: number, divisor: number]> }>;
  params: Array<{ name: string; kind: ParamKind }>;
}

/**
 * The addon's JPEG decoder (native/jpeg.cc): per file, `headers` holds [decoded, width, height,
 * components, orientation] as stored (decoded 0: leave the file to sharp) and `pixels` its
 * `size` x `size` x `channels` record; `size` 0 reads the headers only.
 */
export interface JpegReader {
  readJpegs(paths: readonly string[], size: number, channels: 1 | 3, stretch: boolean): Promise<{ headers: Int32Array; pixels: Uint8Array }>;
}

interface NativeAddon extends JpegReader {
  Context: new (threads: number, isa: string, conv: ConvAlgorithm, declarations: NativeDeclaration[]) => NativeContext;
  /** The ISAs this CPU runs, best first (the bf16 tables, then the float32 ones). */
  supportedIsas(): Isa[];
  /** Whether the CPU has AMX but Linux refused this process the tile state (the amx table is then not offered). */
  amxRefused(): boolean;
  /** Whether the system's libjpeg opened, so that readJpegs decodes anything. */
  jpegAvailable(): boolean;
}

/** The addon's JPEG decoder, or undefined where there is no addon or no system libjpeg (sharp decodes every file then). */
export function jpegReader(): JpegReader | undefined {
  try {
    const a = loadAddon();
    return a.jpegAvailable() ? a : undefined;
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}

/** conv3x3BackwardData -> conv3x3_backward_data: the C++ name of a kernel. */
export function nativeName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Every kernel of src/core/kernels.ts, in `kernelNames` order, as the addon reads them. */
export function nativeDeclarations(): NativeDeclaration[] {
  return kernelNames.map((name) => {
    const declaration: KernelDeclaration = kernelDeclarations[name];
    const params = paramNames(name);
    return {
      name,
      native: nativeName(name),
      buffers: Object.entries(declaration.buffers).map(([buffer, { access, length }]) => ({
        name: buffer,
        access,
        length: lengthFactors(name, length, params).map((f): [number, number] => [f.param, f.divisor]),
      })),
      params: params.map((param) => ({ name: param, kind: declaration.params[param]! })),
    };
  });
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
  return 'To build it: install a C++20 compiler, make and python3 (Debian, Ubuntu: sudo apt-get install build-essential python3), ' +
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
