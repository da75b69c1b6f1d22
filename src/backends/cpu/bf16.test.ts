/**
 * @file Whole training steps in bf16 against PyTorch (docs/precision.md, "How it is tested").
 *
 * For each network, scripts/make_fixture.py makes two fixtures from one initial state and batch:
 * the float64 truth, and PyTorch's own mixed precision (bf16 autocast, what its users train with).
 * Each bf16 kernel table of this CPU (AMX, AVX512-BF16) runs the float64 fixture, and its errors
 * against the truth are held to autocast's errors against the same truth. Gradients of small
 * networks in bf16 carry errors of 10-40% in both implementations (sums of a few hundred terms that
 * cancel: measured in the table of docs/precision.md), so a fixed 1e-2 would judge bf16 itself,
 * not the kernels; what a bug would change is the comparison with autocast:
 * - every quantity finite: NaN or Inf never passes;
 * - forward quantities (logits, losses, eval logits): at most 2x autocast's error + 1e-3;
 * - gradients, weights after two steps and Grad-CAM, taken together: RMS error at most 1.25x
 *   autocast's (measured 0.8x-1.0x), and no single tensor above 0.5 (a wrong layout or rounding
 *   gives errors near 1 or more);
 * - no gradient underflows: no element that is nonzero in the truth comes back exactly zero
 *   (bf16 has float32's exponent range, so no loss scaling is needed).
 * Skipped, saying so, on a CPU with neither AMX nor AVX512-BF16 or without python3-torch, except
 * under CI (which runs on an AMX machine and installs python3-torch).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readSafetensors } from '../../io/safetensors-file.js';
import { requireF32 } from '../../nn/safetensors.js';
import { relativeError, runFixture } from '../../selftest/fixture.js';
import { torchAvailable } from '../../bench/peers.js';
import { repoRoot } from '../../testing/paths.js';
import { createCpuBackend, isaPrecision, supportedIsas } from './index.js';

const bf16Isas = supportedIsas().filter((isa) => isaPrecision(isa) === 'bf16');
const skip = bf16Isas.length === 0 ? 'this CPU has neither AMX nor AVX512-BF16: the bf16 kernels cannot run here'
  : !torchAvailable() ? 'python3-torch is missing: no PyTorch reference to compare with' : undefined;
if (skip && process.env.CI) throw new Error(`bf16 tests cannot run under CI: ${skip}`);

const root = mkdtempSync(join(tmpdir(), 'kilosecond-bf16-'));
after(() => rmSync(root, { recursive: true, force: true }));

function makeFixture(arch: string, width: number, channels: number, size: number, batch: number, precision: string): string {
  const dir = join(root, `${arch}-w${width}-${precision}`);
  execFileSync('/usr/bin/python3', [join(repoRoot, 'scripts', 'make_fixture.py'), dir, ...[width, channels, size, batch].map(String), '--arch', arch, '--precision', precision]);
  return join(dir, 'model.safetensors');
}

const isForward = (name: string): boolean => /logits|loss/.test(name);
const rms = (values: number[]): number => Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);

for (const [arch, width, channels, size, batch] of [['resnet9', 8, 3, 32, 16], ['airbench', 8, 3, 32, 16], ['airbench', 4, 1, 28, 7]] as const) {
  describe(`bf16 ${arch} width ${width}, ${channels}x${size}x${size}, batch ${batch}`, { skip }, () => {
    const truthPath = skip ? '' : makeFixture(arch, width, channels, size, batch, 'fp32');
    const autocastPath = skip ? '' : makeFixture(arch, width, channels, size, batch, 'bf16');
    for (const isa of bf16Isas) {
      it(`${isa}: as close to the float64 truth as PyTorch autocast, nothing non-finite, no gradient underflow`, async () => {
        const truth = readSafetensors(truthPath);
        const autocast = readSafetensors(autocastPath);
        const backend = createCpuBackend({ isa, threads: 2 });
        const underflows: string[] = [];
        let checks;
        try {
          checks = await runFixture(join(truthPath, '..'), backend, (name, ours) => {
            if (!name.startsWith('step0.grad.')) return;
            const want = requireF32(truth, name, truthPath);
            const zeros = Array.from(ours).filter((v, i) => v === 0 && want[i] !== 0).length;
            if (zeros > 0) underflows.push(`${name}: ${zeros} element(s)`);
          });
        } finally {
          backend.dispose();
        }
        const compared = checks.filter((c) => truth.tensors.get(c.name)?.dtype === 'F32');
        const rows = compared.map((c) => ({
          name: c.name, ours: c.relError,
          theirs: relativeError(requireF32(autocast, c.name, autocastPath), requireF32(truth, c.name, truthPath)),
        }));
        for (const r of rows) {
          assert.ok(Number.isFinite(r.ours), `${r.name}: not finite (NaN or Inf)`);
          if (isForward(r.name)) assert.ok(r.ours <= 2 * r.theirs + 1e-3, `${r.name}: error ${r.ours.toExponential(2)} against autocast's ${r.theirs.toExponential(2)}`);
          else assert.ok(r.ours <= 0.5, `${r.name}: error ${r.ours.toExponential(2)} (autocast: ${r.theirs.toExponential(2)})`);
        }
        const rest = rows.filter((r) => !isForward(r.name));
        const [ours, theirs] = [rms(rest.map((r) => r.ours)), rms(rest.map((r) => r.theirs))];
        assert.ok(ours <= 1.25 * theirs, `RMS error of gradients, weights and Grad-CAM ${ours.toExponential(2)} against autocast's ${theirs.toExponential(2)}`);
        assert.deepEqual(underflows, [], 'gradients that flushed to zero');
      });
    }
  });
}
