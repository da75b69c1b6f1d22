/**
 * @file Tests run WebGPU without a GPU on SwiftShader, the CPU Vulkan driver that Debian's
 * chromium package carries (DESIGN.md §4). Point the Vulkan loader at it unless the
 * environment already chose a driver.
 */
import { existsSync } from 'node:fs';

const swiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';

export function ensureSoftwareVulkan(): void {
  if (!process.env.VK_ICD_FILENAMES && existsSync(swiftShaderIcd)) process.env.VK_ICD_FILENAMES = swiftShaderIcd;
}
