/**
 * @file Dawn (the `webgpu` npm package): the WebGPU the backend runs on in Node. The backend's
 * one module that needs Node; every other one takes the WebGPU it is given, so that a browser
 * page runs the same backend on `navigator.gpu`.
 */
import { create, globals } from 'webgpu';
import type { GpuConstants, WebGpuApi, WebGpuOptions } from './device.js';
import { createWebGpuBackend, type WebGpuBackend } from './index.js';

export interface DawnOptions extends WebGpuOptions {
  /** Dawn toggles passed to `create()`, e.g. ['backend=vulkan']. */
  dawnFlags?: string[];
}

/**
 * Dawn instances, one per set of flags, kept for the life of the process: once an instance is
 * garbage-collected while a device it made is still being polled, Dawn's event loop touches freed
 * memory and aborts the process (seen as a flaky SIGABRT in tests that let theirs go).
 */
const instances = new Map<string, GPU>();

export function dawnInstance(flags: string[]): GPU {
  const key = JSON.stringify(flags);
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = create(flags);
    instances.set(key, gpu);
  }
  return gpu;
}

/** Dawn created with `flags`, with the constants its binding exports where browsers have globals. */
export function dawn(flags: string[] = []): WebGpuApi {
  return { gpu: dawnInstance(flags), constants: globals as unknown as GpuConstants };
}

/** The WebGPU backend on Dawn: what `createBackend('webgpu')` opens. */
export function createDawnBackend(options: DawnOptions = {}): Promise<WebGpuBackend> {
  return createWebGpuBackend(dawn(options.dawnFlags), options);
}
