/**
 * @file Backends by name. Each is loaded on demand, so a machine without a GPU never loads Dawn
 * and a machine where the native addon failed to build can still use the others.
 */
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';

const backendNames = ['cpu', 'webgpu', 'reference'];

export async function createBackend(name: string): Promise<Backend> {
  switch (name) {
    case 'cpu':
      return (await import('./cpu/index.js')).createCpuBackend();
    case 'webgpu':
      return (await import('./webgpu/index.js')).createWebGpuBackend();
    case 'reference':
      return (await import('./reference/index.js')).createReferenceBackend();
    default:
      throw new UserError(`unknown backend '${name}'; choose one of: ${backendNames.join(', ')}`);
  }
}
