/**
 * @file Every kernel of every backend against the reference backend (the executable
 * specification), one suite: the cases are data (src/testing/kernel-cases.ts), the backends and
 * their variants are the targets below. A variant that changes one kind of kernel (a CPU
 * convolution algorithm, a forced WebGPU tile) runs only that family.
 *
 * The CPU runs on every ISA this machine has (scalar, AVX2, AVX-512, and the bf16 tables AMX and
 * AVX512-BF16). A bf16 table's convolutions are fed operands already rounded to bf16, the same
 * values the reference (float64 accumulation) gets: what remains is float32 accumulation order,
 * so they are held to 1e-5 relative, tighter than the float32 tables' gradients (1e-4). WebGPU runs on whatever
 * adapter Dawn finds (SwiftShader on a machine without a GPU); without one it skips, except under
 * CI, where a silent skip would hide a broken backend (see src/testing/gpu-for-tests.ts).
 * KILOSECOND_TEST_BACKENDS=webgpu (a comma list; default cpu,webgpu) narrows the run, for a GPU
 * machine that carries no native build (src/bench/gpu/gpu.sh).
 */
import { after, describe, test, type TestContext } from 'node:test';
import type { Backend } from '../core/backend.js';
import { expectMatchesReference } from '../testing/kernel-check.js';
import { allKernelFamilies, kernelCases, type KernelFamily } from '../testing/kernel-cases.js';
import type { ConvAlgorithm, Isa } from './cpu/index.js';
import { roundedToBf16 } from '../core/precision.js';
import type { KernelCase } from '../testing/kernel-check.js';
import { forceTiles } from './webgpu/conv.js';
import { TILES } from './webgpu/gemm.js';
import { closeGpuForTests, gpuForTests } from '../testing/gpu-for-tests.js';

interface Target {
  name: string;
  families: KernelFamily[];
  /** The backend, or null when the test was skipped for want of a device. */
  open(t: TestContext): Promise<Backend | null>;
  /** Runs one case with the variant in force. */
  around?(run: () => Promise<void>): Promise<void>;
  /** The case as this target runs it (a bf16 table's convolutions get bf16 operands). */
  adapt?(c: KernelCase, family: KernelFamily): KernelCase;
}

/** Accumulation order alone separates a bf16 convolution from the float64 reference on bf16 inputs. */
const bf16ConvTolerance = 1e-5;

function withBf16Operands(c: KernelCase, family: KernelFamily): KernelCase {
  if (!convFamilies.includes(family)) return c;
  const inputs = Object.fromEntries(Object.entries(c.inputs).map(([name, values]) => [name, roundedToBf16(values)]));
  const tolerance = Object.fromEntries(Object.keys(c.tolerance).map((name) => [name, bf16ConvTolerance]));
  return { ...c, inputs, tolerance };
}

const convFamilies: KernelFamily[] = ['conv3x3', 'conv3x3-layers'];

/** Every ISA with the automatic convolution choice, and each convolution algorithm forced. */
async function cpuTargets(): Promise<Target[]> {
  // Imported here so that a machine without the native build can still test WebGPU.
  const { createCpuBackend, supportedIsas } = await import('./cpu/index.js');
  const { convAlgorithms, isaPrecision } = await import('./cpu/native.js');
  const target = (isa: Isa, conv: ConvAlgorithm): Target => {
    let backend: Backend | undefined;
    after(() => backend?.dispose());
    return {
      name: `cpu ${isa}, conv ${conv}`,
      families: conv === 'auto' ? allKernelFamilies : convFamilies,
      open: async () => (backend ??= createCpuBackend({ isa, threads: 2, conv })),
      ...(isaPrecision(isa) === 'bf16' ? { adapt: withBf16Operands } : {}),
    };
  };
  // The bf16 tables have one convolution algorithm: KILOSECOND_CONV does not apply to them.
  return supportedIsas().flatMap((isa) =>
    isaPrecision(isa) === 'bf16' ? [target(isa, 'auto')] : convAlgorithms.map((conv) => target(isa, conv)));
}

const webGpuTargets: Target[] = [
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

const backends = (process.env.KILOSECOND_TEST_BACKENDS ?? 'cpu,webgpu').split(',');
const unknown = backends.filter((name) => name !== 'cpu' && name !== 'webgpu');
if (unknown.length > 0) throw new Error(`KILOSECOND_TEST_BACKENDS: unknown backend(s) ${unknown.join(', ')} (cpu, webgpu)`);
const targets = [...(backends.includes('cpu') ? await cpuTargets() : []), ...(backends.includes('webgpu') ? webGpuTargets : [])];

after(closeGpuForTests);

for (const target of targets) {
  describe(`${target.name} kernels match the reference backend`, () => {
    for (const family of target.families) {
      for (const kernelCase of kernelCases[family]()) {
        test(kernelCase.name, async (t) => {
          const backend = await target.open(t);
          if (!backend) return;
          const run = (): Promise<void> => expectMatchesReference(backend, target.adapt ? target.adapt(kernelCase, family) : kernelCase);
          await (target.around ? target.around(run) : run());
        });
      }
    }
  });
}
