/**
 * @file gpu.sh's PyTorch peer (torch_step.py) on this machine's CPU at a tiny size: every variant
 * gives a step time or says why it cannot run, and the summary puts each beside our step as a ratio.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { needTorch } from '../../testing/needs.js';
import { repoRoot } from '../../testing/paths.js';
import { debianPython } from '../peers.js';

const script = join(repoRoot, 'src', 'bench', 'gpu', 'torch_step.py');

interface PeerResult {
  device: string;
  image: number[];
  variants: Record<string, { median_step_s: number; train_img_s: number } | { error: string }>;
}

it('times each PyTorch variant of the step, and names the ones this torch cannot run', { timeout: 120_000 }, (t) => {
  if (!needTorch(t)) return;
  const out = execFileSync(debianPython, [script, '4', '8', '2', '16', '1', '--device', 'cpu'], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as PeerResult;
  assert.equal(r.device, 'cpu');
  assert.deepEqual(r.image, [16, 16, 1]);
  assert.deepEqual(Object.keys(r.variants), ['fp32', 'fp32-strict', 'bf16', 'compile-bf16']);
  for (const name of ['fp32', 'fp32-strict', 'bf16']) {
    const v = r.variants[name]!;
    assert.ok('median_step_s' in v && v.median_step_s > 0 && Math.abs(v.train_img_s * v.median_step_s - 8) < 1e-6, `${name}: ${JSON.stringify(v)}`);
  }
  const compiled = r.variants['compile-bf16']!;
  assert.ok('median_step_s' in compiled || /torch\.compile/.test(compiled.error), JSON.stringify(compiled));
});

it('refuses an unknown variant and a missing argument with its usage', (t) => {
  if (!needTorch(t)) return;
  for (const args of [['4', '8', '2', '16', '1', '--variants', 'fp64'], ['4', '8', '2', '16']]) {
    assert.throws(() => execFileSync(debianPython, [script, ...args], { stdio: 'pipe' }), (err: { status: number; stderr: Buffer }) => {
      assert.equal(err.status, 1);
      assert.match(err.stderr.toString(), /usage: python3 torch_step\.py WIDTH BATCH STEPS SIZE CHANNELS/);
      if (args.includes('fp64')) assert.match(err.stderr.toString(), /unknown variant\(s\) fp64/);
      return true;
    });
  }
});

it("the summary gives the adapter's arithmetic features, and each PyTorch variant's step beside ours as a ratio", () => {
  const dir = mkdtempSync(join(tmpdir(), 'kilosecond-gpu-summary-'));
  try {
    const arithmetic = (f16: boolean) => ({ arithmetic: { 'shader-f16': f16, 'subgroups': true, 'chromium-experimental-subgroup-matrix': f16 } });
    writeFileSync(join(dir, 'adapter.json'), JSON.stringify({ adapter: { vendor: 'nvidia', architecture: 'hopper', description: 'H200' }, arithmetic: { defaults: arithmetic(false), toggled: arithmetic(true) } }));
    writeFileSync(join(dir, 'engine.json'), JSON.stringify({ width: 64, batch_size: 512, image: [32, 32, 3], median_step_s: 0.02, train_img_s: 25600 }));
    writeFileSync(join(dir, 'torch.json'), JSON.stringify({
      device: 'NVIDIA H200', torch: '2.11.0', width: 64, batch_size: 512, image: [32, 32, 3],
      variants: { 'fp32': { median_step_s: 0.03, train_img_s: 17067 }, 'compile-bf16': { error: 'RuntimeError: no compiler' } },
    }));
    const out = execFileSync(process.execPath, [join(repoRoot, 'src', 'bench', 'gpu', 'summary.mjs'), dir], { encoding: 'utf8' });
    assert.match(out, /PyTorch 2\.11\.0 fp32 \(NVIDIA H200\)\s+0\.0300 s {2}17067 img\/s {2}kilosecond 1\.50x its speed/);
    assert.match(out, /PyTorch 2\.11\.0 compile-bf16 \(NVIDIA H200\)\s+RuntimeError: no compiler/);
    assert.match(out, /shader-f16\s+not offered by default, offered with the toggles/);
    assert.match(out, /subgroups\s+offered by default, offered with the toggles/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
