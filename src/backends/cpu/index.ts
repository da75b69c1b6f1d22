/**
 * @file The native CPU backend: the Backend interface over the C++ kernels in native/.
 *
 * Buffers are Float32Arrays recycled through an ArrayPool; kernels run synchronously on a
 * persistent native thread pool, so `read` and `sync` have nothing to wait for. The kernels
 * come in scalar, AVX2 and AVX-512 builds; the best one this CPU runs is picked at startup,
 * or the one named by `KILOSECOND_ISA` (scalar | avx2 | avx512), which tests use to cover
 * every path. `KILOSECOND_CONV` (auto | direct | winograd2 | winograd4) likewise forces a
 * convolution algorithm (Winograd F(2x2, 3x3) or F(4x4, 3x3)).
 */
import { availableParallelism } from 'node:os';
import type { Backend, DeviceBuffer } from '../../core/backend.js';
import { UserError } from '../../core/errors.js';
import { ArrayPool } from './pool.js';
import { bufferNames, kernelNames, type Kernels, paramNames } from '../../core/kernels.js';
import {
  type ConvAlgorithm, type Isa, type NativeContext, convAlgorithms, isaNames, loadAddon, nativeDeclarations,
} from './native.js';

export type { ConvAlgorithm, Isa } from './native.js';

export interface CpuBackendOptions {
  /** Worker threads, the caller included. Default: KILOSECOND_THREADS, else all cores. */
  threads?: number;
  /** Kernel instruction set. Default: KILOSECOND_ISA, else the best this CPU runs. */
  isa?: Isa;
  /** Convolution algorithm. Default: KILOSECOND_CONV, else 'auto' (Winograd where it wins). */
  conv?: ConvAlgorithm;
}

class CpuBuffer implements DeviceBuffer {
  constructor(private array: Float32Array | undefined) {}

  get length(): number {
    return this.data.length;
  }

  get data(): Float32Array {
    if (!this.array) throw new Error('a CPU buffer was used after release()');
    return this.array;
  }

  /** Hands the array back (for the pool) and makes this handle unusable. */
  detach(): Float32Array {
    const array = this.data;
    this.array = undefined;
    return array;
  }
}

const data = (b: DeviceBuffer): Float32Array => (b as CpuBuffer).data;

/** The ISAs this CPU can run, best first. */
export function supportedIsas(): Isa[] {
  return loadAddon().supportedIsas();
}

function positiveInteger(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${what} must be a positive integer, got '${value}'`);
  return n;
}

function chooseThreads(requested: number | undefined): number {
  if (requested !== undefined) return positiveInteger(String(requested), 'the CPU backend option threads');
  const env = process.env.KILOSECOND_THREADS;
  if (env !== undefined && env !== '') return positiveInteger(env, 'KILOSECOND_THREADS');
  return availableParallelism();
}

/** An enumerated setting: the option if given, else the environment variable, else `fallback`. */
function chooseSetting<T extends string>(
  requested: T | undefined, option: string, variable: string, allowed: readonly T[], fallback: T,
): { value: T; source: string } {
  const env = process.env[variable];
  const value = requested ?? (env === undefined || env === '' ? fallback : env);
  const source = requested !== undefined ? `the CPU backend option ${option}` : variable;
  if (!allowed.includes(value as T)) throw new UserError(`${source} is '${value}'; choose one of: ${allowed.join(', ')}`);
  return { value: value as T, source };
}

function chooseIsa(requested: Isa | undefined): Isa {
  const supported = supportedIsas();
  const { value, source } = chooseSetting(requested, 'isa', 'KILOSECOND_ISA', isaNames, supported[0]);
  if (!supported.includes(value)) {
    throw new UserError(`${source} asks for '${value}' but this CPU runs only: ${supported.join(', ')}`);
  }
  return value;
}

/**
 * The kernel methods: one generic call per declared kernel, its buffers then its scalars in
 * declared order; the addon checks them against the same declarations before running it.
 */
function nativeKernels(native: NativeContext): Kernels {
  const bound: Record<string, unknown> = {};
  kernelNames.forEach((name, index) => {
    const buffers = bufferNames(name);
    const params = paramNames(name);
    bound[name] = (b: Record<string, DeviceBuffer>, p: Record<string, number | boolean>) =>
      native.run(index, ...buffers.map((n) => data(b[n]!)), ...params.map((n) => p[n]!));
  });
  return bound as Kernels;
}

export function createCpuBackend(options: CpuBackendOptions = {}): Backend {
  const { Context } = loadAddon();
  const conv = chooseSetting(options.conv, 'conv', 'KILOSECOND_CONV', convAlgorithms, 'auto').value;
  const native: NativeContext = new Context(chooseThreads(options.threads), chooseIsa(options.isa), conv, nativeDeclarations());
  const pool = new ArrayPool();

  return {
    name: `cpu (${native.isa}, ${native.threads} threads)`,

    alloc: (length) => new CpuBuffer(pool.take(length)),
    release: (buf) => pool.give((buf as CpuBuffer).detach()),
    write(buf, values, offset = 0) {
      const target = data(buf);
      if (offset < 0 || offset + values.length > target.length) {
        throw new RangeError(`write of ${values.length} floats at ${offset} overflows a buffer of ${target.length}`);
      }
      target.set(values, offset);
    },
    read: async (buf) => data(buf).slice(),
    fill: (buf, value) => void data(buf).fill(value),
    copy(src, dst) {
      if (src.length !== dst.length) throw new RangeError(`copy from ${src.length} floats into ${dst.length}`);
      data(dst).set(data(src));
    },
    memoryStats() {
      const { liveBytes, pooledBytes } = pool.stats();
      return { liveBytes, pooledBytes: pooledBytes + native.scratchBytes() };
    },
    sync: async () => {},
    dispose() {
      pool.clear();
      native.dispose();
    },

    ...nativeKernels(native),
  };
}
