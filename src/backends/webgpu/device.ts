/**
 * @file Opening a WebGPU device with the limits training needs, on whichever WebGPU the caller
 * has (a browser's `navigator.gpu`, or Dawn in Node: dawn.ts), and describing the adapter for
 * logs and benchmarks.
 *
 * The backend never names a driver: which Vulkan/Metal/D3D driver Dawn picks is the
 * environment's business (tests on a GPU-less machine point VK_ICD_FILENAMES at SwiftShader).
 */
import { msg, setting, UserError } from '../../core/errors.js';

/**
 * The constants browsers put on globalThis; Dawn's Node binding exports them instead. Code here
 * reads them from this object only: @webgpu/types declares the globals, so the compiler accepts
 * a bare `GPUBufferUsage`, which is undefined in Node.
 */
export interface GpuConstants {
  GPUBufferUsage: typeof GPUBufferUsage;
  GPUMapMode: typeof GPUMapMode;
  GPUShaderStage: typeof GPUShaderStage;
}

/**
 * A WebGPU to run on: `{ gpu: navigator.gpu, constants: globalThis }` in a browser or a
 * browser worker, `dawn()` (dawn.ts) in Node.
 */
export interface WebGpuApi {
  gpu: GPU;
  constants: GpuConstants;
}

export interface WebGpuOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * The largest single buffer the caller will allocate, in bytes. Defaults to 256 MiB: one
   * batch-512 activation of 32x32x128 floats, the largest tensor of DavidNet's training step.
   */
  minBufferBytes?: number;
  /**
   * Recorded dispatches are submitted in groups of this many (default 16), so the GPU starts
   * while the host is still recording the rest of a step.
   */
  dispatchesPerSubmit?: number;
}

export interface OpenedDevice {
  device: GPUDevice;
  /** vendor / architecture / device / description, as the adapter reports them. */
  adapterInfo: Record<string, string>;
  /** The limits granted to the device (what the kernels may rely on). */
  limits: GPUSupportedLimits;
  features: string[];
}

const DEFAULT_MIN_BUFFER_BYTES = 256 * 1024 * 1024;
/** The way out of every WebGPU failure the user can do nothing else about. */
export const cpuHint = msg`use ${setting('backend', 'cpu')} instead`;

/** A device on `gpu`'s adapter with the adapter's largest buffers, or a UserError saying why there is none. */
export async function openDevice(gpu: GPU, options: WebGpuOptions = {}): Promise<OpenedDevice> {
  const adapter = await gpu.requestAdapter(
    options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
  );
  if (!adapter) {
    const why = 'WebGPU: no GPU adapter found (Dawn needs a Vulkan, Metal or D3D12 driver; on Linux install libvulkan1 and your GPU\'s Vulkan driver)';
    throw new UserError(msg`${why}; ${cpuHint}`);
  }
  const needed = options.minBufferBytes ?? DEFAULT_MIN_BUFFER_BYTES;
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  if (maxStorageBufferBindingSize < needed || maxBufferSize < needed) {
    const limit = `WebGPU: the adapter allows buffers of at most ${mib(Math.min(maxStorageBufferBindingSize, maxBufferSize))} but training needs ${mib(needed)}`;
    throw new UserError(msg`${limit} (lower the batch size, or ${cpuHint})`);
  }
  // Ask for the adapter's maxima: the defaults (128 MiB bindings) are below one batch-512 activation.
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize, maxBufferSize },
  });
  const info = adapter.info;
  return {
    device,
    adapterInfo: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    limits: device.limits,
    features: [...adapter.features],
  };
}

function mib(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MiB`;
}
