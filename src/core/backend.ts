/**
 * @file The backend interface: the only thing the engine knows about a device.
 *
 * A backend owns memory (opaque `DeviceBuffer`s holding float32 values) and a fixed set of
 * kernels. Everything above this file (tensors, autograd, layers, the trainer) is
 * backend-agnostic; everything below it (src/backends/*, native/) knows one device.
 *
 * The kernels, their buffers and their semantics are declared in src/core/kernels.ts; the
 * reference backend (src/backends/reference) is their executable specification, and
 * src/backends/kernels.test.ts and conformance.test.ts run every backend against it and against
 * the PyTorch fixtures. Kernel launches may be asynchronous (WebGPU queues them); only `read`
 * waits. Within one backend, kernels observe the results of kernels issued before them.
 */

import type { KernelParams, Kernels } from './kernels.js';
import type { Precision } from './precision.js';

/** Opaque handle to `length` float32 values on a device. */
export interface DeviceBuffer {
  readonly length: number;
}

/** The parameters of the 3x3 convolution kernels. */
export type Conv3x3Shape = KernelParams<'conv3x3'>;
/** The parameters of the general convolution kernels. */
export type ConvShape = KernelParams<'conv'>;
/** The parameters of the batch-norm kernels (batchNormTrain adds its momentum). */
export type BatchNormShape = KernelParams<'batchNormEval'>;
export type Pool2x2Shape = KernelParams<'maxPool2x2'>;
export type GlobalPoolShape = KernelParams<'globalMaxPool'>;
export type MatmulShape = KernelParams<'matmul'>;

/**
 * A device: its memory, and one method per kernel declared in src/core/kernels.ts, e.g.
 * `backend.conv3x3({ x, w, y }, { n, h, w, cin, cout })`.
 */
export interface Backend extends Kernels {
  readonly name: string;
  /**
   * The precision of the convolutions (src/core/precision.ts): 'bf16' rounds their operands to
   * bfloat16 and accumulates in float32. Absent: float32.
   */
  readonly precision?: Precision;

  // ---- memory -------------------------------------------------------------------------------
  /** A buffer of `length` floats. Contents are undefined (backends recycle released buffers). */
  alloc(length: number): DeviceBuffer;
  /** Return a buffer to the backend's pool. Using it afterwards is a bug. */
  release(buf: DeviceBuffer): void;
  /** Copy host data into `buf` starting at element `offset` (default 0). */
  write(buf: DeviceBuffer, data: Float32Array, offset?: number): void;
  /** Copy a whole buffer back to the host. The only call that waits for queued work. */
  read(buf: DeviceBuffer): Promise<Float32Array>;
  /** Set every element to `value`. */
  fill(buf: DeviceBuffer, value: number): void;
  /** Copy `src` into `dst` (same length). */
  copy(src: DeviceBuffer, dst: DeviceBuffer): void;
  /** Bytes currently held by live (allocated, not released) buffers, and by the pool. */
  memoryStats(): { liveBytes: number; pooledBytes: number };
  /**
   * Hand back the buffers pooled for reuse; live ones are untouched. After the planner's
   * measurements, whose batch sizes training never asks for again (they held 0.6 GB beside a
   * CIFAR-10 run's own). Call it when no queued work uses a released buffer (after `sync`).
   */
  trim(): void;
  /** Wait for all queued work (used by benchmarks; a no-op on synchronous backends). */
  sync(): Promise<void>;
  /** Free pooled memory and device resources. The backend is unusable afterwards. */
  dispose(): void;
}
