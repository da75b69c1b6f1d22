// `kilosecond selftest --backend webgpu --fixture DIR` without the CLI's npm packages: checks the
// WebGPU backend against a PyTorch fixture and exits 1 if any quantity is out of tolerance.
import { createWebGpuBackend } from '../../dist/backends/webgpu/index.js';
import { runFixture } from '../../dist/selftest/fixture.js';

const backend = await createWebGpuBackend();
try {
  const checks = await runFixture(process.argv[2], backend);
  for (const c of checks) {
    console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(44)} ${c.relError.toExponential(2)}  (tolerance ${c.tolerance})`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`webgpu: ${checks.length - failed}/${checks.length} checks within tolerance`);
  if (failed > 0) process.exitCode = 1;
} finally {
  backend.dispose();
}
