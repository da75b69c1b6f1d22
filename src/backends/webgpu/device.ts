/**
 * @file Opening a WebGPU device through Dawn (the `webgpu` npm package) with the limits training
 * needs, and describing the adapter for logs and benchmarks.
 *
 * The backend never names a driver: which Vulkan/Metal/D3D driver Dawn picks is the
 * environment's business (tests on a GPU-less machine point VK_ICD_FILENAMES at SwiftShader).
 */
import { create, globals } from 'webgpu';
import { msg, setting, UserError } from '../../core/errors.js';

export interface WebGpuOptions {
  /** Dawn toggles passed to `create()`, e.g. ['backend=vulkan']. */
  dawnFlags?: string[];
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

/** Constants that browsers put on globalThis; Dawn's Node binding exports them instead. */
export const gpuConstants = globals as unknown as {
  GPUBufferUsage: typeof GPUBufferUsage;
  GPUMapMode: typeof GPUMapMode;
  GPUShaderStage: typeof GPUShaderStage;
};

const DEFAULT_MIN_BUFFER_BYTES = 256 * 1024 * 1024;
/** The way out of every WebGPU failure the user can do nothing else about. */
export const cpuHint = msg`use ${setting('backend', 'cpu')} instead`;

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

export async function openDevice(options: WebGpuOptions = {}): Promise<OpenedDevice> {
  const gpu = dawnInstance(options.dawnFlags ?? []);
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
