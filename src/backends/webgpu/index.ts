/**
 * @file The WebGPU backend: the `Backend` interface on Dawn's WebGPU, with WGSL kernels.
 *
 * Buffers, parameters, gradients and optimiser state stay on the GPU. Kernel calls only record
 * commands (stream.ts submits them in batches); `read` and `sync` are the only waits.
 *
 *   const gpu = await createWebGpuBackend();
 *   const x = gpu.alloc(n * h * w * c); gpu.write(x, pixels);
 *   gpu.conv3x3(x, weights, y, { n, h, w, cin: c, cout });
 *   const values = await gpu.read(y);
 */
import type {
  Backend, BatchNormShape, Conv3x3Shape, DeviceBuffer, GlobalPoolShape, MatmulShape, Pool2x2Shape, SgdHyper,
} from '../../core/backend.js';
import * as bn from './batchnorm.js';
import { KernelContext, slabOf } from './context.js';
import * as conv from './conv.js';
import { gpuConstants, openDevice, type OpenedDevice, type WebGpuOptions } from './device.js';
import * as ew from './elementwise.js';
import { matmul } from './gemm.js';
import * as loss from './loss.js';
import { GpuBuffer, SlabPool } from './memory.js';
import { measureFp32Peak, type PeakOptions } from './peak.js';
import * as pooling from './pooling.js';
import { CommandStream } from './stream.js';

export type { WebGpuOptions } from './device.js';

export interface WebGpuBackend extends Backend {
  /** The adapter and the limits the device was opened with (for logs and benchmarks). */
  readonly adapter: Omit<OpenedDevice, 'device'>;
  /** The adapter's measured float32 FMA throughput in FLOP/s (benchmarks: see peak.ts). */
  measureFp32Peak(options?: PeakOptions): Promise<number>;
}

export async function createWebGpuBackend(options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const opened = await openDevice(options);
  return new WebGpu(opened, options.dispatchesPerSubmit);
}

const { GPUBufferUsage } = gpuConstants;

class WebGpu implements WebGpuBackend {
  /** 'webgpu (nvidia nvidia-h100-80gb-hbm3)': run records say which adapter did the work. */
  readonly name: string;
  readonly adapter: Omit<OpenedDevice, 'device'>;
  private readonly device: GPUDevice;
  private readonly pool: SlabPool;
  private readonly stream: CommandStream;
  private readonly ctx: KernelContext;

  constructor(opened: OpenedDevice, dispatchesPerSubmit?: number) {
    const { device, ...adapter } = opened;
    this.device = device;
    this.adapter = adapter;
    const { vendor, device: model, description } = adapter.adapterInfo;
    this.name = `webgpu (${[vendor, model || description].filter(Boolean).join(' ') || 'unknown adapter'})`;
    this.pool = new SlabPool(
      device,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize),
    );
    this.stream = new CommandStream(device, this.pool, dispatchesPerSubmit);
    this.ctx = new KernelContext(this.stream, this.pool);
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
    ew.fill(this.ctx, slabOf(buf), buf.length, value);
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

  dispose(): void {
    this.stream.dispose();
    this.pool.destroyPooled();
    this.device.destroy();
  }

  // ---- convolution ----------------------------------------------------------------------------
  conv3x3(x: DeviceBuffer, w: DeviceBuffer, y: DeviceBuffer, s: Conv3x3Shape): void {
    conv.conv3x3(this.ctx, slabOf(x), slabOf(w), slabOf(y), s);
  }

  conv3x3BackwardData(gy: DeviceBuffer, w: DeviceBuffer, gx: DeviceBuffer, s: Conv3x3Shape): void {
    conv.conv3x3BackwardData(this.ctx, slabOf(gy), slabOf(w), slabOf(gx), s);
  }

  conv3x3BackwardFilter(x: DeviceBuffer, gy: DeviceBuffer, gw: DeviceBuffer, s: Conv3x3Shape): void {
    conv.conv3x3BackwardFilter(this.ctx, slabOf(x), slabOf(gy), slabOf(gw), s);
  }

  // ---- batch norm -----------------------------------------------------------------------------
  batchNormTrain(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer, y: DeviceBuffer, mean: DeviceBuffer,
    invstd: DeviceBuffer, runningMean: DeviceBuffer, runningVar: DeviceBuffer, momentum: number, s: BatchNormShape,
  ): void {
    bn.batchNormTrain(
      this.ctx, slabOf(x), slabOf(gamma), slabOf(beta), slabOf(y), slabOf(mean), slabOf(invstd),
      slabOf(runningMean), slabOf(runningVar), momentum, s,
    );
  }

  batchNormEval(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer, runningMean: DeviceBuffer, runningVar: DeviceBuffer,
    y: DeviceBuffer, s: BatchNormShape,
  ): void {
    bn.batchNormEval(
      this.ctx, slabOf(x), slabOf(gamma), slabOf(beta), slabOf(runningMean), slabOf(runningVar), slabOf(y), s,
    );
  }

  batchNormBackward(
    x: DeviceBuffer, y: DeviceBuffer, gy: DeviceBuffer, gamma: DeviceBuffer, mean: DeviceBuffer,
    invstd: DeviceBuffer, gx: DeviceBuffer, ggamma: DeviceBuffer, gbeta: DeviceBuffer, s: BatchNormShape,
  ): void {
    bn.batchNormBackward(
      this.ctx, slabOf(x), slabOf(y), slabOf(gy), slabOf(gamma), slabOf(mean), slabOf(invstd),
      slabOf(gx), slabOf(ggamma), slabOf(gbeta), s,
    );
  }

  // ---- pooling --------------------------------------------------------------------------------
  maxPool2x2(x: DeviceBuffer, y: DeviceBuffer, s: Pool2x2Shape): void {
    pooling.maxPool2x2(this.ctx, slabOf(x), slabOf(y), s);
  }

  maxPool2x2Backward(x: DeviceBuffer, gy: DeviceBuffer, gx: DeviceBuffer, s: Pool2x2Shape): void {
    pooling.maxPool2x2Backward(this.ctx, slabOf(x), slabOf(gy), slabOf(gx), s);
  }

  globalMaxPool(x: DeviceBuffer, y: DeviceBuffer, s: GlobalPoolShape): void {
    pooling.globalMaxPool(this.ctx, slabOf(x), slabOf(y), s);
  }

  globalMaxPoolBackward(x: DeviceBuffer, gy: DeviceBuffer, gx: DeviceBuffer, s: GlobalPoolShape): void {
    pooling.globalMaxPoolBackward(this.ctx, slabOf(x), slabOf(gy), slabOf(gx), s);
  }

  // ---- dense ----------------------------------------------------------------------------------
  matmul(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, s: MatmulShape): void {
    matmul(this.ctx, slabOf(a), slabOf(b), slabOf(out), s);
  }

  add(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, length: number): void {
    ew.add(this.ctx, slabOf(a), slabOf(b), slabOf(out), length);
  }

  scale(a: DeviceBuffer, alpha: number, out: DeviceBuffer, length: number): void {
    ew.scale(this.ctx, slabOf(a), alpha, slabOf(out), length);
  }

  // ---- loss and metrics -----------------------------------------------------------------------
  crossEntropy(
    logits: DeviceBuffer, labels: DeviceBuffer, probs: DeviceBuffer, lossOut: DeviceBuffer,
    n: number, k: number, smoothing: number,
  ): void {
    loss.crossEntropy(this.ctx, slabOf(logits), slabOf(labels), slabOf(probs), slabOf(lossOut), n, k, smoothing);
  }

  crossEntropyBackward(
    probs: DeviceBuffer, labels: DeviceBuffer, gloss: DeviceBuffer, glogits: DeviceBuffer,
    n: number, k: number, smoothing: number,
  ): void {
    loss.crossEntropyBackward(this.ctx, slabOf(probs), slabOf(labels), slabOf(gloss), slabOf(glogits), n, k, smoothing);
  }

  accumulateMetrics(logits: DeviceBuffer, labels: DeviceBuffer, stats: DeviceBuffer, n: number, k: number): void {
    loss.accumulateMetrics(this.ctx, slabOf(logits), slabOf(labels), slabOf(stats), n, k);
  }

  // ---- optimiser ------------------------------------------------------------------------------
  sgdStep(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, length: number, h: SgdHyper): void {
    ew.sgdStep(this.ctx, slabOf(param), slabOf(grad), slabOf(velocity), length, h);
  }
}
