/**
 * @file The WebGPU backend: the `Backend` interface on any WebGPU (a browser's, or Dawn's in
 * Node: dawn.ts), with WGSL kernels.
 *
 * Buffers, parameters, gradients and optimiser state stay on the GPU. Kernel calls only record
 * commands (stream.ts submits them in batches); `read` and `sync` are the only waits.
 *
 *   const gpu = await createWebGpuBackend({ gpu: navigator.gpu, constants: globalThis });
 *   const x = gpu.alloc(n * h * w * c); gpu.write(x, pixels);
 *   gpu.conv3x3({ x, w: weights, y }, { n, h, w, cin: c, cout });
 *   const values = await gpu.read(y);
 */
import type { Backend, DeviceBuffer } from '../../core/backend.js';
import { bindKernels, type KernelName, type Kernels } from '../../core/kernels.js';
import { activationKernels } from './activation.js';
import { batchNormKernels } from './batchnorm.js';
import { type GpuKernels, inContext, KernelContext, slabOf } from './context.js';
import { convKernels, generalConvKernels } from './conv.js';
import { openDevice, type GpuConstants, type OpenedDevice, type WebGpuApi, type WebGpuOptions } from './device.js';
import { averagingKernels, biasKernels, elementwiseKernels, fill } from './elementwise.js';
import { denseKernels } from './gemm.js';
import { lossKernels } from './loss.js';
import { GpuBuffer, SlabPool } from './memory.js';
import { measureFp32Peak, type PeakOptions } from './peak.js';
import { poolingKernels } from './pooling.js';
import { CommandStream } from './stream.js';

/** Every declared kernel's WGSL implementation; one missing here is a compile error naming it. */
const gpuKernels: GpuKernels<KernelName> = {
  ...convKernels, ...generalConvKernels, ...batchNormKernels, ...poolingKernels, ...denseKernels, ...elementwiseKernels, ...biasKernels, ...averagingKernels, ...activationKernels,
  ...lossKernels,
};

export type { WebGpuApi, WebGpuOptions } from './device.js';

export interface WebGpuBackend extends Backend {
  /** The adapter and the limits the device was opened with (for logs and benchmarks). */
  readonly adapter: Omit<OpenedDevice, 'device'>;
  /** The adapter's measured float32 FMA throughput in FLOP/s (benchmarks: see peak.ts). */
  measureFp32Peak(options?: PeakOptions): Promise<number>;
}

/** The backend on a device of `api`'s adapter. */
export async function createWebGpuBackend(api: WebGpuApi, options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const opened = await openDevice(api.gpu, options);
  return new WebGpu(opened, api.constants, options.dispatchesPerSubmit);
}

// The kernel methods are declared by merging this interface and bound in the constructor.
interface WebGpu extends Kernels {}

class WebGpu implements WebGpuBackend {
  /** 'webgpu (nvidia nvidia-h100-80gb-hbm3)': run records say which adapter did the work. */
  readonly name: string;
  readonly adapter: Omit<OpenedDevice, 'device'>;
  private readonly device: GPUDevice;
  private readonly pool: SlabPool;
  private readonly stream: CommandStream;
  private readonly ctx: KernelContext;

  constructor(opened: OpenedDevice, constants: GpuConstants, dispatchesPerSubmit?: number) {
    const { device, ...adapter } = opened;
    this.device = device;
    this.adapter = adapter;
    const { vendor, device: model, description } = adapter.adapterInfo;
    this.name = `webgpu (${[vendor, model || description].filter(Boolean).join(' ') || 'unknown adapter'})`;
    const { GPUBufferUsage } = constants;
    this.pool = new SlabPool(
      device,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize),
    );
    this.stream = new CommandStream(device, constants, this.pool, dispatchesPerSubmit);
    this.ctx = new KernelContext(this.stream, this.pool);
    Object.assign(this, bindKernels(inContext(gpuKernels, this.ctx), slabOf));
  }

  // ---- memory ---------------------------------------------------------------------------------
  alloc(length: number): DeviceBuffer {
    this.stream.checkHealthy();
    return new GpuBuffer(length, this.pool.take(Math.max(1, length) * 4));
  }

  release(buf: DeviceBuffer): void {
    if (!(buf instanceof GpuBuffer)) throw new Error('WebGPU: a DeviceBuffer from another backend was passed in');
    this.pool.give(buf.detach());
  }

  write(buf: DeviceBuffer, data: Float32Array, offset = 0): void {
    if (offset < 0 || offset + data.length > buf.length) {
      throw new Error(`WebGPU: write of ${data.length} floats at ${offset} overruns a buffer of ${buf.length}`);
    }
    this.stream.upload(slabOf(buf), offset * 4, data);
  }

  read(buf: DeviceBuffer): Promise<Float32Array> {
    return this.stream.readBack(slabOf(buf), buf.length * 4);
  }

  fill(buf: DeviceBuffer, value: number): void {
    fill(this.ctx, slabOf(buf), buf.length, value);
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    if (src.length !== dst.length) throw new Error(`WebGPU: copy of ${src.length} floats into ${dst.length}`);
    this.stream.copy(slabOf(src), slabOf(dst), src.length * 4);
  }

  memoryStats(): { liveBytes: number; pooledBytes: number } {
    return this.pool.stats();
  }

  sync(): Promise<void> {
    return this.stream.idle();
  }

  measureFp32Peak(options?: PeakOptions): Promise<number> {
    return measureFp32Peak(this.ctx, options);
  }

  trim(): void {
    this.pool.destroyPooled();
  }

  dispose(): void {
    this.stream.dispose();
    this.pool.destroyPooled();
    this.device.destroy();
  }
}
