/**
 * @file Backends by name, and whether this machine has bf16 kernels. Each is loaded on demand,
 * so a machine without a GPU never loads Dawn and a machine where the native addon failed to
 * build can still use the others.
 */
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import type { Precision } from '../core/precision.js';

const backendNames = ['cpu', 'webgpu', 'reference'];

export interface BackendOptions {
  /** 'bf16': the convolutions in bf16 (cpu backend only, on AMX or AVX512-BF16). Default float32. */
  precision?: Precision;
}

export async function createBackend(name: string, options: BackendOptions = {}): Promise<Backend> {
  if (options.precision === 'bf16' && name !== 'cpu' && backendNames.includes(name)) {
    throw new UserError(`the ${name} backend runs float32 only; bf16 is on the cpu backend (AMX or AVX512-BF16)`);
  }
  switch (name) {
    case 'cpu':
      return (await import('./cpu/index.js')).createCpuBackend(options);
    case 'webgpu':
      return (await import('./webgpu/dawn.js')).createDawnBackend();
    case 'reference':
      return (await import('./reference/index.js')).createReferenceBackend();
    default:
      throw new UserError(`unknown backend '${name}'; choose one of: ${backendNames.join(', ')}`);
  }
}

/** Whether the cpu backend can train in bf16 here (AMX or AVX512-BF16, and the addon built). */
export async function cpuBf16Available(): Promise<boolean> {
  try {
    return (await import('./cpu/index.js')).bf16Supported();
  } catch (err) {
    if (err instanceof UserError) return false;
    throw err;
  }
}
