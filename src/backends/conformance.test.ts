/**
 * @file One conformance suite over every backend (jax-js's `suite.each(devices)`): each op
 * against the single-op PyTorch fixtures (ops.safetensors), and the whole model against every
 * model fixture (forward, gradients, two SGD steps, eval, Grad-CAM).
 *
 * A backend that cannot start here is skipped with its reason on a developer machine, but fails
 * under CI (CI=true), where the native addon is built and WebGPU runs on SwiftShader.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import type { Backend } from '../core/backend.js';
import { Graph } from '../core/graph.js';
import { batchNorm } from '../core/ops/batchnorm.js';
import { conv3x3 } from '../core/ops/conv.js';
import { linear, scale } from '../core/ops/dense.js';
import { crossEntropy } from '../core/ops/loss.js';
import { globalMaxPool, maxPool2x2 } from '../core/ops/pool.js';
import { Tensor } from '../core/tensor.js';
import { readSafetensors } from '../io/safetensors-file.js';
import { requireF32 } from '../nn/safetensors.js';
import { hwioToOihw, oihwToHwio } from '../nn/state-dict.js';
import { Tolerance, nchwToNhwc, relativeError, runFixture } from '../selftest/fixture.js';
import { torchAvailable } from '../bench/peers.js';
import { fixturesDir, repoRoot } from '../testing/paths.js';
import { createBackend } from './index.js';
import { ensureSoftwareVulkan } from '../testing/vulkan.js';

const sharedFixtures = readdirSync(fixturesDir)
  .filter((d) => existsSync(join(fixturesDir, d, 'model.safetensors')))
  .map((d) => join(fixturesDir, d));
const opsPath = join(sharedFixtures[0], 'ops.safetensors');

/**
 * Shapes the shared fixtures do not cover (1-channel 28x28 inputs, odd batches, other widths)
 * and the fast recipe's airbench network, made by PyTorch with scripts/make_fixture.py. CI installs python3-torch, so there they must exist.
 */
function generatedFixtures(): string[] {
  if (!torchAvailable()) {
    if (process.env.CI) throw new Error('python3-torch is missing: CI must install it to generate fixtures');
    return [];
  }
  const root = mkdtempSync(join(tmpdir(), 'kilosecond-fixtures-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  const shapes = [['resnet9', 4, 1, 28, 3], ['resnet9', 6, 3, 32, 5], ['resnet9', 2, 3, 20, 1], ['airbench', 4, 3, 32, 3], ['airbench', 2, 1, 28, 5]] as const;
  return shapes.map(([arch, width, channels, size, batch]) => {
    const dir = join(root, `${arch}-w${width}-c${channels}-${size}-b${batch}`);
    execFileSync('/usr/bin/python3', [join(repoRoot, 'scripts', 'make_fixture.py'), dir, ...[width, channels, size, batch].map(String), '--arch', arch]);
    return dir;
  });
}
const modelFixtures = [...sharedFixtures, ...generatedFixtures()];

function nhwcToNchw(x: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < h * w; p++) out[(i * c + ch) * h * w + p] = x[(i * h * w + p) * c + ch];
  return out;
}

function assertClose(name: string, ours: Float32Array, ref: Float32Array, tolerance: number): void {
  const err = relativeError(ours, ref);
  assert.ok(err <= tolerance, `${name}: relative error ${err} over ${tolerance}`);
}

for (const name of ['reference', 'cpu', 'webgpu']) {
  describe(`backend ${name}`, () => {
    let backend: Backend | undefined;
    let skipReason: string | undefined;
    before(async () => {
      if (name === 'webgpu') ensureSoftwareVulkan();
      try {
        backend = await createBackend(name);
      } catch (err) {
        if (process.env.CI) throw err;
        skipReason = (err as Error).message;
      }
    });
    after(() => backend?.dispose());

    const ops = readSafetensors(opsPath);
    const f = (key: string): Float32Array => requireF32(ops, key, opsPath);
    const shapeOf = (key: string): number[] => ops.tensors.get(key)!.shape;
    /** An NCHW fixture tensor as an NHWC tensor on the backend. */
    const input = (b: Backend, key: string): Tensor => {
      const [n, c, h, w] = shapeOf(key);
      return Tensor.fromArray(b, [n, h, w, c], nchwToNhwc(f(key), n, c, h, w));
    };
    const withGraph = async (t: { skip: (r: string) => void }, body: (b: Backend, g: Graph) => Promise<void>): Promise<void> => {
      if (!backend) return t.skip(skipReason ?? 'unavailable');
      const g = new Graph(backend);
      try {
        await body(backend, g);
      } finally {
        g.dispose();
      }
    };

    it('conv3x3 forward, input and weight gradients match PyTorch', (t) =>
      withGraph(t, async (b, g) => {
        const [cout, cin] = shapeOf('conv.w');
        const x = g.keep(input(b, 'conv.x'));
        const w = Tensor.fromArray(b, [3, 3, cin, cout], oihwToHwio(f('conv.w'), cout, cin));
        const y = conv3x3(g, x, w);
        assertClose('conv.y', nhwcToNchw(await y.read(), y.shape), f('conv.y'), Tolerance.forward);
        const gy = input(b, 'conv.gy');
        const grads = g.backward(y, [x, w], gy);
        assertClose('conv.gx', nhwcToNchw(await grads.get(x)!.read(), x.shape), f('conv.gx'), Tolerance.gradient);
        assertClose('conv.gw', hwioToOihw(await grads.get(w)!.read(), cin, cout), f('conv.gw'), Tolerance.gradient);
        [x, w, gy].forEach((u) => u.dispose());
      }));

    it('maxPool2x2 (floor on odd sizes) forward and gradient match PyTorch', (t) =>
      withGraph(t, async (b, g) => {
        const x = g.keep(input(b, 'pool.x'));
        const y = maxPool2x2(g, x);
        assertClose('pool.y', nhwcToNchw(await y.read(), y.shape), f('pool.y'), Tolerance.forward);
        const gy = input(b, 'pool.gy');
        const gx = g.backward(y, [x], gy).get(x)!;
        assertClose('pool.gx', nhwcToNchw(await gx.read(), x.shape), f('pool.gx'), Tolerance.gradient);
        [x, gy].forEach((u) => u.dispose());
      }));

    it('train-mode batch norm: output, gradients and running statistics match PyTorch', (t) =>
      withGraph(t, async (b, g) => {
        const c = shapeOf('bn.gamma')[0];
        const x = g.keep(input(b, 'bn.x'));
        const bn = {
          weight: Tensor.fromArray(b, [c], f('bn.gamma')),
          bias: Tensor.fromArray(b, [c], f('bn.beta')),
          runningMean: Tensor.fromArray(b, [c], new Float32Array(c)),
          runningVar: Tensor.fromArray(b, [c], new Float32Array(c).fill(1)),
          batchesTracked: 0,
        };
        const y = batchNorm(g, x, bn, { training: true, relu: false });
        assertClose('bn.y', nhwcToNchw(await y.read(), y.shape), f('bn.y'), Tolerance.forward);
        assertClose('bn.running_mean', await bn.runningMean.read(), f('bn.running_mean'), Tolerance.forward);
        assertClose('bn.running_var', await bn.runningVar.read(), f('bn.running_var'), Tolerance.forward);
        const gy = input(b, 'bn.gy');
        const grads = g.backward(y, [x, bn.weight, bn.bias], gy);
        assertClose('bn.gx', nhwcToNchw(await grads.get(x)!.read(), x.shape), f('bn.gx'), Tolerance.gradient);
        assertClose('bn.ggamma', await grads.get(bn.weight)!.read(), f('bn.ggamma'), Tolerance.gradient);
        assertClose('bn.gbeta', await grads.get(bn.bias)!.read(), f('bn.gbeta'), Tolerance.gradient);
        [x, gy, bn.weight, bn.bias, bn.runningMean, bn.runningVar].forEach((u) => u.dispose());
      }));

    it('head (global max pool, linear, scale, smoothed cross-entropy) matches PyTorch', (t) =>
      withGraph(t, async (b, g) => {
        const feats = g.keep(input(b, 'head.f'));
        const w = Tensor.fromArray(b, shapeOf('head.w'), f('head.w'));
        const labels = Tensor.fromArray(b, [shapeOf('head.labels')[0]], Float32Array.from(ops.tensors.get('head.labels')!.data as BigInt64Array, Number));
        const logits = scale(g, linear(g, globalMaxPool(g, feats), w), 0.125);
        assertClose('head.logits', await logits.read(), f('head.logits'), Tolerance.forward);
        const loss = crossEntropy(g, logits, labels, 0.2);
        assertClose('head.loss', await loss.read(), f('head.loss'), Tolerance.forward);
        const grads = g.backward(loss, [feats, w]);
        assertClose('head.gf', nhwcToNchw(await grads.get(feats)!.read(), feats.shape), f('head.gf'), Tolerance.gradient);
        assertClose('head.gw', await grads.get(w)!.read(), f('head.gw'), Tolerance.gradient);
        [feats, w, labels].forEach((u) => u.dispose());
      }));

    for (const fixture of modelFixtures) {
      it(`model fixture ${basename(fixture)}: forward, gradients, two SGD steps, eval, Grad-CAM`, async (t) => {
        if (!backend) return t.skip(skipReason ?? 'unavailable');
        const failed = (await runFixture(fixture, backend)).filter((c) => !c.ok);
        assert.deepEqual(failed.map((c) => `${c.name}: ${c.relError} > ${c.tolerance}`), []);
      });
    }
  });
}
