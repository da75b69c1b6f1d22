/**
 * @file Every native kernel, on every ISA this CPU runs, against the reference backend (the
 * executable specification) on random inputs with awkward shapes: channel counts that are not
 * multiples of the vector width, odd H and W, one and three images, and the ResNet-9 layer
 * shapes at batch 1.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Backend, Conv3x3Shape, DeviceBuffer } from '../../core/backend.js';
import { createReferenceBackend } from '../reference/index.js';
import { createCpuBackend, supportedIsas } from './index.js';

const forwardTolerance = 1e-5;
const gradientTolerance = 1e-4;

/** Deterministic standard-normal-ish values (mulberry32 + Box-Muller). */
function randomArray(length: number, seed: number, mean = 0, std = 1): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = mean + std * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

function relativeError(ours: Float32Array, ref: Float32Array): number {
  assert.equal(ours.length, ref.length);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    assert.ok(Number.isFinite(ours[i]), `non-finite value at ${i}`);
    diff += (ours[i] - ref[i]) ** 2;
    norm += ref[i] ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

/** Runs the same kernel call on both backends with the same inputs; returns the named outputs. */
class Twin {
  constructor(readonly ours: Backend, readonly ref: Backend) {}

  /** inputs: initial contents of every buffer (outputs may be zero-filled arrays of their size). */
  async run(
    inputs: Record<string, Float32Array>,
    call: (b: Backend, buf: Record<string, DeviceBuffer>) => void,
    outputs: string[],
  ): Promise<Record<string, [Float32Array, Float32Array]>> {
    const results: Record<string, [Float32Array, Float32Array]> = {};
    const perBackend = await Promise.all(
      [this.ours, this.ref].map(async (b) => {
        const bufs: Record<string, DeviceBuffer> = {};
        for (const [name, values] of Object.entries(inputs)) {
          bufs[name] = b.alloc(values.length);
          // Fresh outputs (all zeros) start as garbage on ours, to catch kernels that leave some unwritten.
          const fresh = outputs.includes(name) && values.every((v) => v === 0);
          b.write(bufs[name], fresh && b === this.ours ? randomArray(values.length, 99, 7) : values);
        }
        call(b, bufs);
        const read: Record<string, Float32Array> = {};
        for (const name of outputs) read[name] = await b.read(bufs[name]);
        Object.values(bufs).forEach((buf) => b.release(buf));
        return read;
      }),
    );
    for (const name of outputs) results[name] = [perBackend[0][name], perBackend[1][name]];
    return results;
  }

  async expectClose(
    inputs: Record<string, Float32Array>,
    call: (b: Backend, buf: Record<string, DeviceBuffer>) => void,
    tolerances: Record<string, number>,
  ): Promise<void> {
    const results = await this.run(inputs, call, Object.keys(tolerances));
    for (const [name, [ours, ref]] of Object.entries(results)) {
      const err = relativeError(ours, ref);
      assert.ok(err <= tolerances[name], `${name}: relative error ${err} over ${tolerances[name]}`);
    }
  }
}

const oddConvShapes: Conv3x3Shape[] = [
  { n: 1, h: 5, w: 7, cin: 1, cout: 5 },
  { n: 3, h: 6, w: 5, cin: 3, cout: 17 },
  { n: 2, h: 9, w: 3, cin: 20, cout: 33 },
  { n: 1, h: 1, w: 1, cin: 7, cout: 9 },
  { n: 3, h: 4, w: 4, cin: 37, cout: 70 },
  { n: 3, h: 11, w: 13, cin: 19, cout: 130 },
];

/** The DavidNet (width 64) layer shapes at batch 1, for 32x32 and 28x28 inputs. */
const resnetConvShapes: Conv3x3Shape[] = [
  { n: 1, h: 32, w: 32, cin: 3, cout: 64 },
  { n: 1, h: 32, w: 32, cin: 64, cout: 128 },
  { n: 1, h: 16, w: 16, cin: 128, cout: 128 },
  { n: 1, h: 16, w: 16, cin: 128, cout: 256 },
  { n: 1, h: 8, w: 8, cin: 256, cout: 512 },
  { n: 3, h: 4, w: 4, cin: 512, cout: 512 },
  { n: 1, h: 28, w: 28, cin: 1, cout: 64 },
  { n: 1, h: 14, w: 14, cin: 128, cout: 128 },
  { n: 3, h: 3, w: 3, cin: 512, cout: 512 },
];

const label = (s: Conv3x3Shape): string => `n${s.n} ${s.h}x${s.w} ${s.cin}->${s.cout}`;

for (const isa of supportedIsas()) {
  describe(`cpu kernels (${isa}) match the reference backend`, () => {
    let twin: Twin;
    before(() => {
      twin = new Twin(createCpuBackend({ isa, threads: 2 }), createReferenceBackend());
    });
    after(() => twin.ours.dispose());

    const shapes = isa === 'scalar' ? [...oddConvShapes, ...resnetConvShapes.slice(0, 3)] : [...oddConvShapes, ...resnetConvShapes];
    for (const conv of ['direct', 'winograd2', 'winograd4'] as const) {
      it(`conv3x3 forward, backward data and backward filter (${conv})`, async () => {
        const ours = createCpuBackend({ isa, threads: 2, conv });
        try {
          for (const [i, s] of shapes.entries()) {
            const pixels = s.n * s.h * s.w;
            const inputs = {
              x: randomArray(pixels * s.cin, 3 * i + 1),
              w: randomArray(9 * s.cin * s.cout, 3 * i + 2, 0, 0.1),
              gy: randomArray(pixels * s.cout, 3 * i + 3),
              y: new Float32Array(pixels * s.cout),
              gx: new Float32Array(pixels * s.cin),
              gw: new Float32Array(9 * s.cin * s.cout),
            };
            await new Twin(ours, twin.ref).expectClose(inputs, (b, t) => {
              b.conv3x3(t.x, t.w, t.y, s);
              b.conv3x3BackwardData(t.gy, t.w, t.gx, s);
              b.conv3x3BackwardFilter(t.x, t.gy, t.gw, s);
            }, { y: forwardTolerance, gx: gradientTolerance, gw: gradientTolerance }).catch((err: Error) => {
              throw new Error(`${label(s)}: ${err.message}`);
            });
          }
        } finally {
          ours.dispose();
        }
      });
    }

    for (const relu of [false, true]) {
      it(`batch norm train, eval and backward${relu ? ' with fused ReLU' : ''}`, async () => {
        // An offset mean (|mean| >> std) checks the variance does not cancel catastrophically.
        for (const [rows, C, mean] of [[1, 3, 0], [37, 5, 0], [3000, 19, 50], [2048, 64, 0]] as const) {
          const s = { rows, channels: C, eps: 1e-5, relu };
          await twin.expectClose(
            {
              x: randomArray(rows * C, rows + C, mean, 2),
              gamma: randomArray(C, 5, 1, 0.2),
              beta: randomArray(C, 6),
              gy: randomArray(rows * C, 7),
              y: new Float32Array(rows * C),
              yEval: new Float32Array(rows * C),
              meanOut: new Float32Array(C),
              invstd: new Float32Array(C),
              runningMean: randomArray(C, 8),
              runningVar: randomArray(C, 9, 2, 0.1),
              gx: new Float32Array(rows * C),
              ggamma: new Float32Array(C),
              gbeta: new Float32Array(C),
            },
            (b, t) => {
              b.batchNormTrain(t.x, t.gamma, t.beta, t.y, t.meanOut, t.invstd, t.runningMean, t.runningVar, 0.1, s);
              b.batchNormEval(t.x, t.gamma, t.beta, t.runningMean, t.runningVar, t.yEval, s);
              b.batchNormBackward(t.x, t.y, t.gy, t.gamma, t.meanOut, t.invstd, t.gx, t.ggamma, t.gbeta, s);
            },
            {
              y: forwardTolerance, yEval: forwardTolerance, meanOut: forwardTolerance, invstd: forwardTolerance,
              runningMean: forwardTolerance, runningVar: forwardTolerance,
              gx: gradientTolerance, ggamma: gradientTolerance, gbeta: gradientTolerance,
            },
          );
        }
      });
    }

    it('max pools and their gradients, with ties and odd sizes', async () => {
      for (const [n, h, w, c] of [[1, 5, 7, 3], [3, 8, 8, 17], [2, 4, 3, 64]] as const) {
        // Rounded values make ties, which must go to the first maximum in scan order.
        const x = randomArray(n * h * w * c, h * w + c).map((v) => Math.round(v));
        const pooled = n * Math.floor(h / 2) * Math.floor(w / 2) * c;
        await twin.expectClose(
          {
            x, gy: randomArray(pooled, 4), y: new Float32Array(pooled), gx: new Float32Array(x.length),
            g: new Float32Array(n * c), gyGlobal: randomArray(n * c, 5), gxGlobal: new Float32Array(x.length),
          },
          (b, t) => {
            b.maxPool2x2(t.x, t.y, { n, h, w, c });
            b.maxPool2x2Backward(t.x, t.gy, t.gx, { n, h, w, c });
            b.globalMaxPool(t.x, t.g, { n, spatial: h * w, c });
            b.globalMaxPoolBackward(t.x, t.gyGlobal, t.gxGlobal, { n, spatial: h * w, c });
          },
          { y: 0, gx: 0, g: 0, gxGlobal: 0 },
        );
      }
    });

    it('matmul in all four transpose modes', async () => {
      for (const [m, k, n] of [[1, 1, 1], [7, 33, 10], [64, 512, 10]] as const) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            await twin.expectClose(
              { a: randomArray(m * k, m + k), b: randomArray(k * n, k + n), out: new Float32Array(m * n) },
              (b, t) => b.matmul(t.a, t.b, t.out, { m, k, n, transA, transB }),
              { out: forwardTolerance },
            );
          }
        }
      }
    });

    it('add, scale and the Nesterov SGD step', async () => {
      for (const length of [1, 17, 200_003]) {
        await twin.expectClose(
          {
            a: randomArray(length, 1), b: randomArray(length, 2), sum: new Float32Array(length), scaled: new Float32Array(length),
            param: randomArray(length, 3), grad: randomArray(length, 4), velocity: randomArray(length, 5),
          },
          (b, t) => {
            b.add(t.a, t.b, t.sum, length);
            b.scale(t.a, -0.37, t.scaled, length);
            b.sgdStep(t.param, t.grad, t.velocity, length, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
          },
          { sum: forwardTolerance, scaled: forwardTolerance, param: forwardTolerance, velocity: forwardTolerance },
        );
      }
    });

    it('cross-entropy (smoothed), its gradient and the device-side metrics', async () => {
      for (const [n, k] of [[1, 1], [5, 10], [512, 10]] as const) {
        const labels = Float32Array.from({ length: n }, (_, i) => (i * 7) % k);
        await twin.expectClose(
          {
            logits: randomArray(n * k, n, 0, 3), labels, probs: new Float32Array(n * k), loss: new Float32Array(1),
            gloss: Float32Array.of(1.5), glogits: new Float32Array(n * k), stats: Float32Array.of(3, 4),
          },
          (b, t) => {
            b.crossEntropy(t.logits, t.labels, t.probs, t.loss, n, k, 0.2);
            b.crossEntropyBackward(t.probs, t.labels, t.gloss, t.glogits, n, k, 0.2);
            b.accumulateMetrics(t.logits, t.labels, t.stats, n, k);
          },
          { probs: forwardTolerance, loss: forwardTolerance, glogits: gradientTolerance, stats: forwardTolerance },
        );
      }
    });
  });
}
