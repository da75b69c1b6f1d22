/**
 * @file Every kernel of every backend against the reference backend (the executable
 * specification), one suite: the cases are data (src/testing/kernel-cases.ts), the backends and
 * their variants are the targets below. A variant that changes one kind of kernel (a CPU
 * convolution algorithm, a forced WebGPU tile) runs only that family.
 *
 * The CPU runs on every ISA this machine has (scalar, AVX2, AVX-512). WebGPU runs on whatever
 * adapter Dawn finds (SwiftShader on a machine without a GPU); without one it skips, except under
 * CI, where a silent skip would hide a broken backend (see webgpu/gpu-for-tests.ts).
 */
import { after, describe, test, type TestContext } from 'node:test';
import type { Backend } from '../core/backend.js';
import { expectMatchesReference } from '../testing/kernel-check.js';
import { allKernelFamilies, kernelCases, type KernelFamily } from '../testing/kernel-cases.js';
import { createCpuBackend, supportedIsas, type ConvAlgorithm, type Isa } from './cpu/index.js';
import { convAlgorithms } from './cpu/native.js';
import { forceTiles } from './webgpu/conv.js';
import { TILES } from './webgpu/gemm.js';
import { closeGpuForTests, gpuForTests } from './webgpu/gpu-for-tests.js';

interface Target {
  name: string;
  families: KernelFamily[];
  /** The backend, or null when the test was skipped for want of a device. */
  open(t: TestContext): Promise<Backend | null>;
  /** Runs one case with the variant in force. */
  around?(run: () => Promise<void>): Promise<void>;
}

const convFamilies: KernelFamily[] = ['conv3x3', 'conv3x3-layers'];

function cpuTarget(isa: Isa, conv: ConvAlgorithm, families: KernelFamily[]): Target {
  let backend: Backend | undefined;
  after(() => backend?.dispose());
  return {
    name: `cpu ${isa}, conv ${conv}`,
    families,
    open: async () => (backend ??= createCpuBackend({ isa, threads: 2, conv })),
  };
}

const targets: Target[] = [
  ...supportedIsas().flatMap((isa) => convAlgorithms.map((conv) =>
    cpuTarget(isa, conv, conv === 'auto' ? allKernelFamilies : convFamilies))),
  { name: 'webgpu', families: allKernelFamilies, open: gpuForTests },
  // The tile heuristics pick one tile per layer shape; force each onto shapes that miss its multiples.
  ...Object.entries(TILES).map(([name, tile]): Target => ({
    name: `webgpu, ${name} tile`,
    families: ['conv3x3'],
    open: gpuForTests,
    around: async (run) => {
      forceTiles({ forward: tile, filter: tile });
      try {
        await run();
      } finally {
        forceTiles({});
      }
    },
  })),
];

after(closeGpuForTests);

for (const target of targets) {
  describe(`${target.name} kernels match the reference backend`, () => {
    for (const family of target.families) {
      for (const kernelCase of kernelCases[family]()) {
        test(kernelCase.name, async (t) => {
          const backend = await target.open(t);
          if (!backend) return;
          const run = (): Promise<void> => expectMatchesReference(backend, kernelCase);
          await (target.around ? target.around(run) : run());
        });
      }
    }
  });
}
