// Prints the WebGPU adapter Dawn finds (info, the limits the kernels rely on, features) as text
// and, with --json FILE, as JSON. Exits 1 when there is no usable adapter.
import { writeFileSync } from 'node:fs';
import { openDevice } from '../../../dist/backends/webgpu/device.js';

const LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
];

try {
  const { device, adapterInfo, limits, features } = await openDevice();
  const picked = Object.fromEntries(LIMITS.map((name) => [name, limits[name]]));
  console.log('adapter:', adapterInfo);
  console.log('limits:', picked);
  console.log('features:', features.join(' '));
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0) writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ adapter: adapterInfo, limits: picked, features }));
  device.destroy();
} catch (error) {
  console.error(`no usable WebGPU adapter: ${error.message}`);
  process.exit(1);
}
