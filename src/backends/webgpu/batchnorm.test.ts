/**
 * Batch norm (train, eval, backward; with and without the fused ReLU) against the reference
 * backend, including a channel count that is not a multiple of the 64-channel workgroups, more
 * rows than one chunk, and inputs whose mean dwarfs their spread (the shifted-sums trap).
 */
import { after, describe, test } from 'node:test';
import type { BatchNormShape, DeviceBuffer } from '../../core/backend.js';
import { createReferenceBackend } from '../reference/index.js';
import { closeGpuForTests, gpuForTests } from './gpu-for-tests.js';
import { expectMatchesReference, randomArray } from './kernel-check.js';

const CASES: { rows: number; channels: number; offset: number }[] = [
  { rows: 35, channels: 3, offset: 0 },
  { rows: 3 * 28 * 28, channels: 65, offset: 0.5 },
  { rows: 1 * 32 * 32, channels: 64, offset: 0 },
  { rows: 300, channels: 8, offset: 100 },
  { rows: 500, channels: 4, offset: 0 },
  { rows: 70, channels: 1028, offset: 0 },
];

after(closeGpuForTests);

describe('webgpu batch norm', () => {
  for (const { rows, channels, offset } of CASES) {
    for (const relu of [false, true]) {
      const s: BatchNormShape = { rows, channels, eps: 1e-5, relu };
      const name = `rows=${rows} c=${channels} offset=${offset} relu=${relu}`;
      const x = randomArray(rows * channels, 1, 2, offset);
      const gamma = randomArray(channels, 2, 0.5, 1);
      const beta = randomArray(channels, 3, 0.5);
      const perChannel = (seed: number): Float32Array => randomArray(channels, seed);

      test(`train ${name}`, async (t) => {
        const gpu = await gpuForTests(t);
        if (!gpu) return;
        await expectMatchesReference(gpu, {
          buffers: {
            x, gamma, beta, y: randomArray(rows * channels, 4), mean: perChannel(5), invstd: perChannel(6),
            runningMean: perChannel(7), runningVar: randomArray(channels, 8, 0.5, 1),
          },
          run: (b, u) => b.batchNormTrain(
            u.x!, u.gamma!, u.beta!, u.y!, u.mean!, u.invstd!, u.runningMean!, u.runningVar!, 0.1, s,
          ),
          tolerance: { x: 0, gamma: 0, beta: 0, y: 1e-5, mean: 1e-5, invstd: 1e-4, runningMean: 1e-5, runningVar: 1e-4 },
        });
      });

      test(`eval ${name}`, async (t) => {
        const gpu = await gpuForTests(t);
        if (!gpu) return;
        await expectMatchesReference(gpu, {
          buffers: {
            x, gamma, beta, runningMean: randomArray(channels, 9, 0.1, offset),
            runningVar: randomArray(channels, 10, 0.5, 1), y: randomArray(rows * channels, 11),
          },
          run: (b, u) => b.batchNormEval(u.x!, u.gamma!, u.beta!, u.runningMean!, u.runningVar!, u.y!, s),
          tolerance: 1e-5,
        });
      });

      test(`backward ${name}`, async (t) => {
        const gpu = await gpuForTests(t);
        if (!gpu) return;
        // y from a real forward pass, so that the ReLU mask means what it means in training.
        const ref = await forwardOutputs(x, gamma, beta, s);
        await expectMatchesReference(gpu, {
          buffers: {
            x, y: ref.y, gy: randomArray(rows * channels, 12), gamma, mean: ref.mean, invstd: ref.invstd,
            gx: randomArray(rows * channels, 13), ggamma: perChannel(14), gbeta: perChannel(15),
          },
          run: (b, u) => b.batchNormBackward(
            u.x!, u.y!, u.gy!, u.gamma!, u.mean!, u.invstd!, u.gx!, u.ggamma!, u.gbeta!, s,
          ),
          tolerance: 1e-4,
        });
      });
    }
  }
});

async function forwardOutputs(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, s: BatchNormShape,
): Promise<{ y: Float32Array; mean: Float32Array; invstd: Float32Array }> {
  const b = createReferenceBackend();
  const put = (data: Float32Array): DeviceBuffer => {
    const buf = b.alloc(data.length);
    b.write(buf, data);
    return buf;
  };
  const [y, mean, invstd] = [b.alloc(x.length), b.alloc(s.channels), b.alloc(s.channels)];
  const running = [put(new Float32Array(s.channels)), put(new Float32Array(s.channels).fill(1))] as const;
  b.batchNormTrain(put(x), put(gamma), put(beta), y, mean, invstd, running[0], running[1], 0.1, s);
  return { y: await b.read(y), mean: await b.read(mean), invstd: await b.read(invstd) };
}
