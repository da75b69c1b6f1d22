/**
 * @file The command stream: compiles each kernel once, packs kernel parameters into a uniform
 * ring, and records dispatches into one command encoder that is submitted in batches, so the
 * host never waits for the GPU except in `readBack` and `idle`.
 *
 * Ordering rule: everything reaches the GPU through the queue in call order. `queue.writeBuffer`
 * jumps ahead of commands still sitting in the open encoder, so `upload` submits them first.
 */
import { msg, UserError, type Message } from '../../core/errors.js';
import { cpuHint, type GpuConstants } from './device.js';
import { SlabPool, type Slab } from './memory.js';
import { shaderSource } from './shaders.js';

export type Access = 'read' | 'write';

/** A compute shader with one entry point `main`, and how its buffers are bound. */
export interface Kernel {
  /** Shader files under shaders/, concatenated in this order. */
  readonly sources: readonly string[];
  /** Compile-time constants prepended as `const NAME: u32 = V;` (tile sizes and the like). */
  readonly consts: Readonly<Record<string, number>>;
  /** Storage bindings 1..n in order; binding 0 is always the uniform parameter block. */
  readonly bindings: readonly Access[];
  readonly key: string;
}

export function defineKernel(
  sources: readonly string[], bindings: readonly Access[], consts: Record<string, number> = {},
): Kernel {
  const key = `${sources.join('+')}|${bindings.join('')}|${JSON.stringify(consts)}`;
  return { sources, bindings, consts, key };
}

/** Each dispatch's parameters take one 256-byte slot (WebGPU's dynamic-offset alignment). */
const UNIFORM_SLOT_BYTES = 256;
const UNIFORM_SLOTS = 512;
/**
 * Submit after this many dispatches even without a read, so the GPU starts while the host still
 * records: a training step records about 140. Chosen by timing training steps with other
 * counts: BENCHMARKS.md, "WebGPU tuning choices (H100)".
 */
const DEFAULT_DISPATCHES_PER_SUBMIT = 16;
const BIND_GROUP_CACHE_SIZE = 4096;

export class CommandStream {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly uniformBuffer: GPUBuffer;
  private readonly uniformStaging = new Uint8Array(UNIFORM_SLOT_BYTES * UNIFORM_SLOTS);
  private readonly staging: SlabPool;
  private uniformSlots = 0;
  private dispatches = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private lostMessage: string | null = null;
  private firstError: string | null = null;
  private disposed = false;
  /** Rejecters of the waits in flight, settled at once if the device is lost. */
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(
    private readonly device: GPUDevice,
    private readonly constants: GpuConstants,
    private readonly scratch: SlabPool,
    private readonly dispatchesPerSubmit = DEFAULT_DISPATCHES_PER_SUBMIT,
  ) {
    const { GPUBufferUsage } = constants;
    this.uniformBuffer = device.createBuffer({
      size: this.uniformStaging.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.staging = new SlabPool(
      device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, device.limits.maxBufferSize,
    );
    void device.lost.then((info) => {
      if (!this.disposed) this.lostMessage = info.message || String(info.reason);
      const error = this.disposed
        ? new Error('WebGPU: the backend was disposed while work was pending')
        : new UserError(this.lostError());
      for (const reject of this.waiting) reject(error);
      this.waiting.clear();
    });
    device.onuncapturederror = (event) => {
      this.firstError ??= event.error.message;
    };
  }

  /** Throws if the device is gone (the user's problem) or a command failed validation (ours). */
  checkHealthy(): void {
    if (this.disposed) throw new Error('WebGPU: the backend was used after dispose()');
    if (this.lostMessage !== null) throw new UserError(this.lostError());
    if (this.firstError !== null) throw new Error(`WebGPU: a command failed: ${this.firstError}`);
  }

  dispatch(kernel: Kernel, buffers: readonly Slab[], params: ArrayBuffer, groups: readonly [number, number, number]): void {
    this.checkHealthy();
    if (buffers.length !== kernel.bindings.length) {
      throw new Error(`WebGPU: ${kernel.key} takes ${kernel.bindings.length} buffers, got ${buffers.length}`);
    }
    if (groups.some((g) => g === 0)) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups.some((g) => g > max)) throw new Error(`WebGPU: ${kernel.key} needs ${groups.join('x')} workgroups`);
    const [bound, temporaries] = this.unaliased(kernel, buffers);
    const pipeline = this.pipeline(kernel);
    const offset = this.pushUniforms(params);
    const bindGroup = this.bindGroup(kernel.bindings, bound);
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, [offset]);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    for (const slab of temporaries) this.scratch.give(slab);
    if (++this.dispatches >= this.dispatchesPerSubmit) this.flush();
  }

  copy(src: Slab, dst: Slab, bytes: number): void {
    this.checkHealthy();
    if (bytes > 0) this.commandEncoder().copyBufferToBuffer(src.gpu, 0, dst.gpu, 0, bytes);
  }

  /** Host data into a buffer, after everything recorded so far. */
  upload(dst: Slab, byteOffset: number, data: Float32Array): void {
    this.checkHealthy();
    this.flush();
    this.device.queue.writeBuffer(dst.gpu, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  async readBack(src: Slab, bytes: number): Promise<Float32Array> {
    this.checkHealthy();
    if (bytes === 0) return new Float32Array(0);
    const staging = this.staging.take(bytes);
    this.commandEncoder().copyBufferToBuffer(src.gpu, 0, staging.gpu, 0, bytes);
    this.flush();
    try {
      await this.unlessLost(staging.gpu.mapAsync(this.constants.GPUMapMode.READ, 0, bytes));
      this.checkHealthy();
      return new Float32Array(staging.gpu.getMappedRange(0, bytes).slice(0));
    } finally {
      if (staging.gpu.mapState === 'mapped') staging.gpu.unmap();
      this.staging.give(staging);
    }
  }

  /** Submits what is recorded and waits until the GPU has run it. */
  async idle(): Promise<void> {
    this.checkHealthy();
    this.flush();
    await this.unlessLost(this.device.queue.onSubmittedWorkDone());
    this.checkHealthy();
  }

  flush(): void {
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    if (this.uniformSlots > 0) {
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformStaging, 0, this.uniformSlots * UNIFORM_SLOT_BYTES);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.uniformSlots = 0;
    this.dispatches = 0;
  }

  dispose(): void {
    this.disposed = true;
    this.pass = null;
    this.encoder = null;
    this.staging.destroyPooled();
    this.uniformBuffer.destroy();
    this.bindGroups.clear();
  }

  private lostError(): Message {
    return msg`WebGPU: the GPU device was lost (${this.lostMessage}); restart the run, or ${cpuHint}`;
  }

  /**
   * Waits for `work`, but settles with a UserError as soon as the device is lost (a lost device
   * may never finish it). A failure of `work` that the loss caused is reported as the loss.
   */
  private async unlessLost<T>(work: Promise<T>): Promise<T> {
    let reject: (error: Error) => void = () => undefined;
    const lost = new Promise<never>((_, r) => (reject = r));
    this.waiting.add(reject);
    try {
      return await Promise.race([work, lost]);
    } catch (error) {
      if (!(error instanceof UserError) && this.lostMessage === null && !this.disposed) {
        // The loss notice can trail the failure it caused by a moment.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (this.lostMessage !== null) throw new UserError(this.lostError());
      throw error;
    } finally {
      this.waiting.delete(reject);
    }
  }

  /**
   * WebGPU forbids binding one buffer as both read-only and writable in a dispatch (an in-place
   * `scale(a, s, a)`, say). The read-only side then reads a copy.
   */
  private unaliased(kernel: Kernel, buffers: readonly Slab[]): [Slab[], Slab[]] {
    const written = new Set(buffers.filter((_, i) => kernel.bindings[i] === 'write'));
    if (written.size < kernel.bindings.filter((a) => a === 'write').length) {
      throw new Error(`WebGPU: ${kernel.key} was given the same output buffer twice`);
    }
    const temporaries: Slab[] = [];
    const bound = buffers.map((slab, i) => {
      if (kernel.bindings[i] !== 'read' || !written.has(slab)) return slab;
      const copy = this.scratch.take(slab.bytes);
      this.copy(slab, copy, slab.bytes);
      temporaries.push(copy);
      return copy;
    });
    return [bound, temporaries];
  }

  private pushUniforms(params: ArrayBuffer): number {
    if (params.byteLength > UNIFORM_SLOT_BYTES) throw new Error('WebGPU: kernel parameters exceed 256 bytes');
    if (this.uniformSlots === UNIFORM_SLOTS) this.flush();
    const offset = this.uniformSlots++ * UNIFORM_SLOT_BYTES;
    this.uniformStaging.set(new Uint8Array(params), offset);
    return offset;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private layout(bindings: readonly Access[]): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const key = bindings.join('');
    let layout = this.layouts.get(key);
    if (!layout) {
      const group = this.device.createBindGroupLayout({
        entries: [
          { binding: 0, visibility: this.constants.GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
          ...bindings.map((access, i) => ({
            binding: i + 1,
            visibility: this.constants.GPUShaderStage.COMPUTE,
            buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
          })),
        ],
      });
      layout = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, layout);
    }
    return layout;
  }

  private pipeline(kernel: Kernel): GPUComputePipeline {
    let pipeline = this.pipelines.get(kernel.key);
    if (!pipeline) {
      const consts = Object.entries(kernel.consts).map(([name, value]) => `const ${name}: u32 = ${value}u;\n`);
      const code = consts.join('') + kernel.sources.map(shaderSource).join('\n');
      const module = this.device.createShaderModule({ code, label: kernel.key });
      pipeline = this.device.createComputePipeline({
        label: kernel.key,
        layout: this.layout(kernel.bindings).pipeline,
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(kernel.key, pipeline);
    }
    return pipeline;
  }

  private bindGroup(bindings: readonly Access[], buffers: readonly Slab[]): GPUBindGroup {
    const key = `${bindings.join('')}:${buffers.map((b) => b.id).join(',')}`;
    let group = this.bindGroups.get(key);
    if (group) {
      // Map order doubles as recency order for the eviction below.
      this.bindGroups.delete(key);
    } else {
      group = this.device.createBindGroup({
        layout: this.layout(bindings).group,
        entries: [
          { binding: 0, resource: { buffer: this.uniformBuffer, offset: 0, size: UNIFORM_SLOT_BYTES } },
          ...buffers.map((slab, i) => ({ binding: i + 1, resource: { buffer: slab.gpu } })),
        ],
      });
      if (this.bindGroups.size >= BIND_GROUP_CACHE_SIZE) {
        this.bindGroups.delete(this.bindGroups.keys().next().value as string);
      }
    }
    this.bindGroups.set(key, group);
    return group;
  }
}
