/**
 * @file Device memory: GPU buffers recycled through size buckets, so a training loop that
 * allocates the same shapes every step creates no GPUBuffer after its first step.
 */
import type { DeviceBuffer } from '../../core/backend.js';
import { msg, UserError } from '../../core/errors.js';
import { cpuHint } from './device.js';

/** One GPUBuffer and a stable id (bind groups are cached by the ids of the buffers they bind). */
export interface Slab {
  readonly gpu: GPUBuffer;
  readonly id: number;
  readonly bytes: number;
}

/** The backend's `DeviceBuffer`: `length` floats living in (the start of) a pooled slab. */
export class GpuBuffer implements DeviceBuffer {
  constructor(readonly length: number, private current: Slab | null) {}

  get slab(): Slab {
    if (!this.current) throw new Error('WebGPU: a DeviceBuffer was used after release()');
    return this.current;
  }

  /** Hands the slab back, leaving this handle unusable. */
  detach(): Slab {
    const slab = this.slab;
    this.current = null;
    return slab;
  }
}

/**
 * Rounds a request up to a bucket: 256 bytes at least, then the next of 4 steps per power of two
 * (1, 1.25, 1.5, 1.75 x 2^k), so at most 25% of a buffer is slack and nearby sizes share buckets.
 */
export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const power = 2 ** Math.floor(Math.log2(bytes));
  const step = power / 4;
  return Math.max(256, Math.ceil(bytes / step) * step);
}

export class SlabPool {
  private readonly free = new Map<number, Slab[]>();
  private nextId = 1;
  private live = 0;
  private pooled = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly maxBytes: number,
  ) {}

  take(bytes: number): Slab {
    if (bytes > this.maxBytes) {
      throw new UserError(msg`WebGPU: a buffer of ${bytes} bytes exceeds the adapter's limit of ${this.maxBytes} bytes (lower the batch size, or ${cpuHint})`);
    }
    const size = Math.min(bucketBytes(bytes), this.maxBytes);
    const reused = this.free.get(size)?.pop();
    if (reused) this.pooled -= reused.bytes;
    const slab = reused ?? { gpu: this.device.createBuffer({ size, usage: this.usage }), id: this.nextId++, bytes: size };
    this.live += slab.bytes;
    return slab;
  }

  give(slab: Slab): void {
    this.live -= slab.bytes;
    this.pooled += slab.bytes;
    const list = this.free.get(slab.bytes);
    if (list) list.push(slab);
    else this.free.set(slab.bytes, [slab]);
  }

  stats(): { liveBytes: number; pooledBytes: number } {
    return { liveBytes: this.live, pooledBytes: this.pooled };
  }

  /** Destroys the pooled buffers (live ones belong to their holders until released). */
  destroyPooled(): void {
    for (const list of this.free.values()) for (const slab of list) slab.gpu.destroy();
    this.free.clear();
    this.pooled = 0;
  }
}
