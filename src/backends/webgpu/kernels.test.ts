/**
 * The small kernels against the reference backend: pooling (with ties and odd sizes), matmul in
 * every transposition, elementwise ops (in place too), cross-entropy, metrics and SGD.
 */
import { after, describe, test } from 'node:test';
import type { Backend, DeviceBuffer } from '../../core/backend.js';
import { closeGpuForTests, gpuForTests } from './gpu-for-tests.js';
import { expectMatchesReference, randomArray, randomIntegers, type KernelCase } from './kernel-check.js';

after(closeGpuForTests);

function gpuTest(name: string, makeCase: () => KernelCase): void {
  test(name, async (t) => {
    const gpu = await gpuForTests(t);
    if (gpu) await expectMatchesReference(gpu, makeCase());
  });
}

type Run = (b: Backend, u: Record<string, DeviceBuffer>) => void;

describe('webgpu pooling', () => {
  for (const s of [{ n: 3, h: 7, w: 5, c: 3 }, { n: 1, h: 32, w: 32, c: 64 }, { n: 2, h: 28, w: 28, c: 5 }]) {
    const out = s.n * Math.floor(s.h / 2) * Math.floor(s.w / 2) * s.c;
    const size = s.n * s.h * s.w * s.c;
    // Integers in [0, 3) make ties common, which exercises the first-maximum rule.
    const x = randomIntegers(size, 1, 3);
    gpuTest(`maxPool2x2 ${JSON.stringify(s)}`, () => ({
      buffers: { x, y: randomArray(out, 2) },
      run: (b, u) => b.maxPool2x2(u.x!, u.y!, s),
      tolerance: 0,
    }));
    gpuTest(`maxPool2x2Backward ${JSON.stringify(s)}`, () => ({
      buffers: { x, gy: randomArray(out, 3), gx: randomArray(size, 4) },
      run: (b, u) => b.maxPool2x2Backward(u.x!, u.gy!, u.gx!, s),
      tolerance: 0,
    }));
  }
  for (const s of [{ n: 3, spatial: 9, c: 5 }, { n: 1, spatial: 16, c: 512 }, { n: 2, spatial: 1, c: 3 }]) {
    const x = randomIntegers(s.n * s.spatial * s.c, 5, 4);
    gpuTest(`globalMaxPool ${JSON.stringify(s)}`, () => ({
      buffers: { x, y: randomArray(s.n * s.c, 6) },
      run: (b, u) => b.globalMaxPool(u.x!, u.y!, s),
      tolerance: 0,
    }));
    gpuTest(`globalMaxPoolBackward ${JSON.stringify(s)}`, () => ({
      buffers: { x, gy: randomArray(s.n * s.c, 7), gx: randomArray(x.length, 8) },
      run: (b, u) => b.globalMaxPoolBackward(u.x!, u.gy!, u.gx!, s),
      tolerance: 0,
    }));
  }
});

describe('webgpu matmul', () => {
  for (const [m, k, n] of [[7, 13, 10], [3, 512, 10], [130, 70, 66], [1, 1, 1]] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const s = { m, k, n, transA, transB };
        gpuTest(`matmul ${JSON.stringify(s)}`, () => ({
          buffers: { a: randomArray(m * k, 1), b: randomArray(k * n, 2), out: randomArray(m * n, 3) },
          run: (b, u) => b.matmul(u.a!, u.b!, u.out!, s),
          tolerance: 1e-5,
        }));
      }
    }
  }
});

describe('webgpu elementwise', () => {
  const length = 1000;
  const a = randomArray(length, 1);
  const b = randomArray(length, 2);
  const cases: [string, Record<string, Float32Array>, Run][] = [
    ['add', { a, b, out: randomArray(length, 3) }, (k, u) => k.add(u.a!, u.b!, u.out!, length)],
    ['add in place', { a, b }, (k, u) => k.add(u.a!, u.b!, u.a!, length)],
    ['scale', { a, out: randomArray(length, 3) }, (k, u) => k.scale(u.a!, -0.37, u.out!, length)],
    ['scale in place', { a }, (k, u) => k.scale(u.a!, 3.5, u.a!, length)],
    ['scale a prefix', { a, out: randomArray(length, 3) }, (k, u) => k.scale(u.a!, 2, u.out!, 999)],
    ['fill', { a }, (k, u) => k.fill(u.a!, 0.25)],
    ['copy', { a, b }, (k, u) => k.copy(u.a!, u.b!)],
  ];
  for (const [name, buffers, run] of cases) gpuTest(name, () => ({ buffers, run, tolerance: 1e-7 }));

  for (const nesterov of [false, true]) {
    const h = { lr: 0.4, momentum: 0.9, weightDecay: 5e-4, nesterov };
    gpuTest(`sgdStep nesterov=${nesterov}`, () => ({
      buffers: { param: a, grad: b, velocity: randomArray(length, 4) },
      run: (k, u) => {
        k.sgdStep(u.param!, u.grad!, u.velocity!, length, h);
        k.sgdStep(u.param!, u.grad!, u.velocity!, length, { ...h, lr: 0.2 });
      },
      tolerance: 1e-6,
    }));
  }
});

describe('webgpu loss', () => {
  for (const [n, k] of [[3, 10], [300, 10], [1, 2], [512, 7]] as const) {
    for (const smoothing of [0, 0.2]) {
      const logits = randomArray(n * k, 1, 4);
      const labels = randomIntegers(n, 2, k);
      const name = `n=${n} k=${k} smoothing=${smoothing}`;
      gpuTest(`crossEntropy ${name}`, () => ({
        buffers: { logits, labels, probs: randomArray(n * k, 3), loss: randomArray(1, 4) },
        run: (b, u) => b.crossEntropy(u.logits!, u.labels!, u.probs!, u.loss!, n, k, smoothing),
        tolerance: { logits: 0, labels: 0, probs: 1e-5, loss: 1e-5 },
      }));
      gpuTest(`crossEntropyBackward ${name}`, () => ({
        buffers: {
          probs: randomArray(n * k, 3, 0.5, 0.5), labels, gloss: new Float32Array([1.7]), glogits: randomArray(n * k, 4),
        },
        run: (b, u) => b.crossEntropyBackward(u.probs!, u.labels!, u.gloss!, u.glogits!, n, k, smoothing),
        tolerance: 1e-5,
      }));
    }
    gpuTest(`accumulateMetrics n=${n} k=${k}`, () => ({
      // Integer logits: ties, where the first maximum decides.
      buffers: { logits: randomIntegers(n * k, 5, 3), labels: randomIntegers(n, 6, k), stats: new Float32Array([5, 2.5]) },
      run: (b, u) => {
        b.accumulateMetrics(u.logits!, u.labels!, u.stats!, n, k);
        b.accumulateMetrics(u.logits!, u.labels!, u.stats!, n, k);
      },
      tolerance: 1e-5,
    }));
  }
});
