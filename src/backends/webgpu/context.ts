/**
 * @file What a kernel wrapper needs: the command stream to record into, and scratch buffers.
 */
import type { DeviceBuffer } from '../../core/backend.js';
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

/** The slab behind a DeviceBuffer this backend created; anything else is a caller's bug. */
export function slabOf(buffer: DeviceBuffer): Slab {
  if (!(buffer instanceof GpuBuffer)) throw new Error('WebGPU: a DeviceBuffer from another backend was passed in');
  return buffer.slab;
}
