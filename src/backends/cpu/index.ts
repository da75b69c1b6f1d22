/**
 * @file The native CPU backend: the Backend interface over the C++ kernels in native/.
 *
 * Buffers are Float32Arrays recycled through an ArrayPool; kernels run synchronously on a
 * persistent native thread pool, so `read` and `sync` have nothing to wait for. The kernels
 * come in scalar, AVX2 and AVX-512 float32 builds and two bf16 builds (AMX tiles, AVX512-BF16:
 * the convolutions with bf16 operands, docs/precision.md); the best one of the precision asked
 * for is picked at startup, or the one named by `KILOSECOND_ISA` (amx | avx512bf16 | avx512 |
 * avx2 | scalar, applied to the precision it belongs to), which tests use to cover every path. `KILOSECOND_CONV` (auto | direct | winograd2 | winograd4) likewise forces a
 * convolution algorithm (Winograd F(2x2, 3x3) or F(4x4, 3x3)).
 */
import { availableParallelism } from 'node:os';
import type { Backend, DeviceBuffer } from '../../core/backend.js';
import { msg, setting, UserError } from '../../core/errors.js';
import type { Precision } from '../../core/precision.js';
import { ArrayPool } from './pool.js';
import { bufferNames, kernelNames, type Kernels, paramNames } from '../../core/kernels.js';
import {
  type ConvAlgorithm, type Isa, type NativeContext, convAlgorithms, isaNames, isaPrecision, loadAddon, nativeDeclarations,
} from './native.js';

export type { ConvAlgorithm, Isa } from './native.js';
export { isaPrecision } from './native.js';

export interface CpuBackendOptions {
  /** Worker threads, the caller included. Default: KILOSECOND_THREADS, else all cores. */
  threads?: number;
  /** Kernel instruction set; it implies the precision. Default: KILOSECOND_ISA, else the best this CPU runs for `precision`. */
  isa?: Isa;
  /** 'fp32' (default) or 'bf16' (the convolutions' operands in bfloat16, on AMX or AVX512-BF16). */
  precision?: Precision;
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

/** Whether this CPU can train in bf16 on its matrix units (AMX or AVX512-BF16). */
export function bf16Supported(): boolean {
  return supportedIsas().some((isa) => isaPrecision(isa) === 'bf16');
}

let amxRefusalTold = false;

/**
 * The ISA option if given (its precision must be the one asked for, when one is), else
 * KILOSECOND_ISA when it names a table of the precision asked for (a table of the other precision
 * is forced on that precision's backends only), else the best table of that precision.
 */
function chooseIsa(requested: Isa | undefined, precision: Precision | undefined): Isa {
  const supported = supportedIsas();
  const env = process.env.KILOSECOND_ISA as Isa | undefined;
  const wanted = precision ?? (requested !== undefined && isaNames.includes(requested) ? isaPrecision(requested) : 'fp32');
  const envForces = env !== undefined && (env as string) !== '' && !(isaNames.includes(env) && isaPrecision(env) !== wanted);
  if (requested === undefined && !envForces) {
    const best = supported.find((isa) => isaPrecision(isa) === wanted);
    if (best === undefined) {
      throw new UserError(msg`bf16 needs a CPU with AMX or AVX512-BF16; this one runs only: ${supported.join(', ')}. Use ${setting('precision', 'fp32')}.`);
    }
    if (wanted === 'bf16' && loadAddon().amxRefused() && !amxRefusalTold) {
      amxRefusalTold = true;
      console.error('kilosecond: this CPU has AMX but Linux refused the process its tile state (arch_prctl); bf16 runs on AVX512-BF16 instead.');
    }
    return best;
  }
  // The option, or KILOSECOND_ISA: one of them is set here, so the fallback is never taken.
  const { value, source } = chooseSetting(requested, 'isa', 'KILOSECOND_ISA', isaNames, 'scalar');
  if (!supported.includes(value)) throw new UserError(`${source} asks for '${value}' but this CPU runs only: ${supported.join(', ')}`);
  if (isaPrecision(value) !== wanted) throw new UserError(`${source} '${value}' runs ${isaPrecision(value)}, not the ${wanted} asked for`);
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
  const isa = chooseIsa(options.isa, options.precision);
  const native: NativeContext = new Context(chooseThreads(options.threads), isa, conv, nativeDeclarations());
  const pool = new ArrayPool();

  return {
    name: `cpu (${native.isa}${isaPrecision(isa) === 'bf16' ? ' bf16' : ''}, ${native.threads} threads)`,
    precision: isaPrecision(isa),

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
    trim: () => pool.clear(),
    dispose() {
      pool.clear();
      native.dispose();
    },

    ...nativeKernels(native),
  };
}
