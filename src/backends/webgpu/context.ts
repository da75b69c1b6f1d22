/**
 * @file What a kernel wrapper needs: the command stream to record into, and scratch buffers.
 */
import type { DeviceBuffer } from '../../core/backend.js';
import type { KernelBuffers, KernelImplementations, KernelName, KernelParams } from '../../core/kernels.js';
import { GpuBuffer, type Slab, type SlabPool } from './memory.js';
import type { CommandStream } from './stream.js';

export class KernelContext {
  constructor(readonly stream: CommandStream, private readonly pool: SlabPool) {}

  /**
   * A scratch buffer of `floats` values for the kernels being recorded. Give it back with `done`
   * as soon as the last dispatch using it is recorded: the stream runs in order, so a later
   * kernel that reuses it cannot overtake the earlier ones.
   */
  scratch(floats: number): Slab {
    return this.pool.take(Math.max(1, floats) * 4);
  }

  done(...slabs: Slab[]): void {
    for (const slab of slabs) this.pool.give(slab);
  }
}

/** The WebGPU implementations of some kernels: each records its dispatches into `ctx`. */
export type GpuKernels<K extends KernelName> = {
  [N in K]: (ctx: KernelContext, buffers: KernelBuffers<N, Slab>, params: KernelParams<N>) => void;
};

/** Every kernel bound to one context: what `bindKernels` turns into the backend's methods. */
export function inContext(kernels: GpuKernels<KernelName>, ctx: KernelContext): KernelImplementations<Slab> {
  const bound: Record<string, unknown> = {};
  for (const [name, kernel] of Object.entries(kernels)) {
    bound[name] = (buffers: unknown, params: unknown) => (kernel as (c: KernelContext, b: unknown, p: unknown) => void)(ctx, buffers, params);
  }
  return bound as KernelImplementations<Slab>;
}

/** The slab behind a DeviceBuffer this backend created; anything else is a caller's bug. */
export function slabOf(buffer: DeviceBuffer): Slab {
  if (!(buffer instanceof GpuBuffer)) throw new Error('WebGPU: a DeviceBuffer from another backend was passed in');
  return buffer.slab;
}
