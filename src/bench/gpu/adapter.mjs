// Prints the WebGPU adapter Dawn finds (info, the limits the kernels rely on, features, and the
// f16 and matrix-unit features with and without NVIDIA's Dawn toggles) as text
// and, with --json FILE, as JSON. Exits 1 when there is no usable adapter.
import { writeFileSync } from 'node:fs';
import { dawn, dawnInstance } from '../../../dist/backends/webgpu/dawn.js';
import { openDevice } from '../../../dist/backends/webgpu/device.js';
import { formatArithmetic, probeArithmetic } from '../../../dist/backends/webgpu/features.js';

const LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
];

try {
  const { device, adapterInfo, limits, features } = await openDevice(dawn().gpu);
  const picked = Object.fromEntries(LIMITS.map((name) => [name, limits[name]]));
  console.log('adapter:', adapterInfo);
  console.log('limits:', picked);
  // Every feature, and what a faster arithmetic path could use, with Dawn's defaults and with NVIDIA's toggles.
  const arithmetic = await probeArithmetic(dawnInstance);
  if (arithmetic) console.log(formatArithmetic(arithmetic));
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0) writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ adapter: adapterInfo, limits: picked, features, arithmetic }));
  device.destroy();
} catch (error) {
  console.error(`no usable WebGPU adapter: ${error.message}`);
  process.exit(1);
}
