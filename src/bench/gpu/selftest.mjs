// `kilosecond selftest --backend webgpu --fixture DIR` without the CLI's npm packages: checks the
// WebGPU backend against a PyTorch fixture and exits 1 if any quantity is out of tolerance.
import { createDawnBackend } from '../../../dist/backends/webgpu/dawn.js';
import { formatChecks, runFixture } from '../../../dist/selftest/fixture.js';

const backend = await createDawnBackend();
try {
  const checks = await runFixture(process.argv[2], backend);
  process.stdout.write(formatChecks(checks, backend.name));
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
} finally {
  backend.dispose();
}
