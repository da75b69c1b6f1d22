/**
 * The convolution kernels against the reference backend, on shapes that hit the edges: 1 and 3
 * input channels (padded to 4), channel counts that are not multiples of 4 or of a tile, images
 * smaller than a tile, 28x28 and 32x32, batches of 1 and 3, and split-K backward-filter.
 */
import { after, describe, test } from 'node:test';
import type { Conv3x3Shape } from '../../core/backend.js';
import { forceTiles } from './conv.js';
import { TILES } from './gemm.js';
import { closeGpuForTests, gpuForTests } from './gpu-for-tests.js';
import { expectMatchesReference, randomArray } from './kernel-check.js';

const SHAPES: Conv3x3Shape[] = [
  { n: 1, h: 5, w: 7, cin: 3, cout: 5 },
  { n: 3, h: 28, w: 28, cin: 1, cout: 8 },
  { n: 1, h: 32, w: 32, cin: 3, cout: 64 },
  { n: 2, h: 9, w: 6, cin: 8, cout: 12 },
  { n: 3, h: 4, w: 4, cin: 36, cout: 132 },
  { n: 1, h: 16, w: 16, cin: 64, cout: 128 },
  { n: 3, h: 32, w: 32, cin: 4, cout: 16 },
];

const label = (s: Conv3x3Shape): string => `n=${s.n} ${s.h}x${s.w} ${s.cin}->${s.cout}`;

after(closeGpuForTests);

describe('webgpu conv3x3', () => {
  for (const s of SHAPES) {
    const pixels = s.n * s.h * s.w;
    const weights = 9 * s.cin * s.cout;
    const x = randomArray(pixels * s.cin, 1);
    const w = randomArray(weights, 2, 1 / Math.sqrt(9 * s.cin));
    const gy = randomArray(pixels * s.cout, 3);

    test(`forward ${label(s)}`, async (t) => {
      const gpu = await gpuForTests(t);
      if (!gpu) return;
      await expectMatchesReference(gpu, {
        buffers: { x, w, y: randomArray(pixels * s.cout, 4) },
        run: (b, { x, w, y }) => b.conv3x3(x!, w!, y!, s),
        tolerance: 1e-5,
      });
    });

    test(`backward-data ${label(s)}`, async (t) => {
      const gpu = await gpuForTests(t);
      if (!gpu) return;
      await expectMatchesReference(gpu, {
        buffers: { gy, w, gx: randomArray(pixels * s.cin, 5) },
        run: (b, { gy, w, gx }) => b.conv3x3BackwardData(gy!, w!, gx!, s),
        tolerance: 1e-4,
      });
    });

    test(`backward-filter ${label(s)}`, async (t) => {
      const gpu = await gpuForTests(t);
      if (!gpu) return;
      await expectMatchesReference(gpu, {
        buffers: { x, gy, gw: randomArray(weights, 6) },
        run: (b, { x, gy, gw }) => b.conv3x3BackwardFilter(x!, gy!, gw!, s),
        tolerance: 1e-4,
      });
    });
  }
});

describe('webgpu conv3x3 with every tile shape', () => {
  for (const [name, tile] of Object.entries(TILES)) {
    for (const s of [SHAPES[0]!, SHAPES[3]!, { n: 2, h: 11, w: 13, cin: 20, cout: 136 }]) {
      test(`${name} tile, ${label(s)}`, async (t) => {
        const gpu = await gpuForTests(t);
        if (!gpu) return;
        const pixels = s.n * s.h * s.w;
        forceTiles({ forward: tile, filter: tile });
        try {
          await expectMatchesReference(gpu, {
            buffers: {
              x: randomArray(pixels * s.cin, 1), w: randomArray(9 * s.cin * s.cout, 2, 0.3),
              gy: randomArray(pixels * s.cout, 3), y: randomArray(pixels * s.cout, 4),
              gx: randomArray(pixels * s.cin, 5), gw: randomArray(9 * s.cin * s.cout, 6),
            },
            run: (b, u) => {
              b.conv3x3(u.x!, u.w!, u.y!, s);
              b.conv3x3BackwardData(u.gy!, u.w!, u.gx!, s);
              b.conv3x3BackwardFilter(u.x!, u.gy!, u.gw!, s);
            },
            tolerance: { x: 0, w: 0, gy: 0, y: 1e-5, gx: 1e-4, gw: 1e-4 },
          });
        } finally {
          forceTiles({});
        }
      });
    }
  }
});
