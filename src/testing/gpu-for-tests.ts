/**
 * @file Opening the WebGPU backend in tests: on a machine without a GPU, Dawn runs on
 * SwiftShader (the CPU Vulkan driver that Debian's chromium package ships). Without any adapter
 * the tests skip, except under CI, where a silent skip would hide a broken backend.
 */
import type { TestContext } from 'node:test';
import { UserError } from '../core/errors.js';
import { ensureSoftwareVulkan } from './vulkan.js';
import { createDawnBackend } from '../backends/webgpu/dawn.js';
import type { WebGpuBackend } from '../backends/webgpu/index.js';

let opened: Promise<WebGpuBackend | string> | null = null;

/** One backend per test file (the device is shared, its buffers are not). */
export async function gpuForTests(t: TestContext): Promise<WebGpuBackend | null> {
  opened ??= open();
  const result = await opened;
  if (typeof result !== 'string') return result;
  if (process.env.CI) throw new Error(`CI must test the WebGPU backend, but: ${result}`);
  t.skip(`no WebGPU adapter: ${result}`);
  return null;
}

async function open(): Promise<WebGpuBackend | string> {
  // The Vulkan loader reads VK_ICD_FILENAMES when Dawn first creates an instance: set it before.
  ensureSoftwareVulkan();
  try {
    return await createDawnBackend({ minBufferBytes: 16 * 1024 * 1024 });
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
}

/** Frees the shared device (call from the test file's `after`), so the process can exit. */
export async function closeGpuForTests(): Promise<void> {
  const result = await opened;
  if (result && typeof result !== 'string') result.dispose();
  opened = null;
}
