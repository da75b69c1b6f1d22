/**
 * @file The kernel conformance cases, as data: every Backend kernel on shapes that exercise its
 * edges (odd sizes, channel counts that are not multiples of a vector or a tile, images smaller
 * than a tile, ties in the max-pools, in-place calls), grouped in families so that a backend
 * variant which changes only one kind of kernel (a CPU convolution algorithm, a WebGPU tile)
 * runs only that family. src/backends/kernels.test.ts runs them on every backend.
 *
 * Tolerances are relative L2 errors against the reference loops: none where the kernel only moves
 * or rounds once (pooling, add, scale), 1e-6 to 1e-5 for short dot products and single
 * reductions, 1e-4 where float32 sums over thousands of terms meet in another order
 * (convolution and batch-norm gradients).
 */
import type { Backend, Conv3x3Shape, DeviceBuffer } from '../core/backend.js';
import { convShape } from '../core/ops/conv.js';
import { randomArray, randomIntegers, type KernelCase } from './kernel-check.js';

export type KernelFamily = 'conv3x3' | 'conv3x3-layers' | 'conv' | 'batchnorm' | 'pooling' | 'matmul' | 'elementwise' | 'activation' | 'loss';

type Buffers = Record<string, DeviceBuffer>;

/** Shapes at the edges: 1 and 3 input channels, counts that are not multiples of 4, 8 or 16, 1x1 images. */
const edgeConvShapes: Conv3x3Shape[] = [
  { n: 1, h: 5, w: 7, cin: 1, cout: 5 },
  { n: 1, h: 5, w: 7, cin: 3, cout: 5 },
  { n: 3, h: 6, w: 5, cin: 3, cout: 17 },
  { n: 2, h: 9, w: 6, cin: 8, cout: 12 },
  { n: 2, h: 9, w: 3, cin: 20, cout: 33 },
  { n: 1, h: 1, w: 1, cin: 7, cout: 9 },
  { n: 3, h: 4, w: 4, cin: 36, cout: 132 },
  { n: 3, h: 4, w: 4, cin: 37, cout: 70 },
  { n: 2, h: 11, w: 13, cin: 20, cout: 136 },
  { n: 3, h: 11, w: 13, cin: 19, cout: 130 },
];

/** The DavidNet (width 64) layer shapes at batch 1 (3 for the smallest maps), 32x32 and 28x28 inputs. */
const layerConvShapes: Conv3x3Shape[] = [
  { n: 1, h: 32, w: 32, cin: 3, cout: 64 },
  { n: 1, h: 32, w: 32, cin: 64, cout: 128 },
  { n: 1, h: 16, w: 16, cin: 128, cout: 128 },
  { n: 1, h: 16, w: 16, cin: 128, cout: 256 },
  { n: 1, h: 8, w: 8, cin: 256, cout: 512 },
  { n: 3, h: 4, w: 4, cin: 512, cout: 512 },
  { n: 3, h: 28, w: 28, cin: 1, cout: 8 },
  { n: 1, h: 28, w: 28, cin: 1, cout: 64 },
  { n: 1, h: 14, w: 14, cin: 128, cout: 128 },
  { n: 3, h: 3, w: 3, cin: 512, cout: 512 },
];

function convCases(shapes: Conv3x3Shape[]): KernelCase[] {
  return shapes.map((s, i) => {
    const pixels = s.n * s.h * s.w;
    const weights = 9 * s.cin * s.cout;
    return {
      name: `conv3x3 forward, backward-data, backward-filter n=${s.n} ${s.h}x${s.w} ${s.cin}->${s.cout}`,
      inputs: {
        x: randomArray(pixels * s.cin, 3 * i + 1),
        w: randomArray(weights, 3 * i + 2, 1 / Math.sqrt(9 * s.cin)),
        gy: randomArray(pixels * s.cout, 3 * i + 3),
      },
      outputs: { y: pixels * s.cout, gx: pixels * s.cin, gw: weights },
      run: (b: Backend, u: Buffers) => {
        b.conv3x3({ x: u.x!, w: u.w!, y: u.y! }, s);
        b.conv3x3BackwardData({ gy: u.gy!, w: u.w!, gx: u.gx! }, s);
        b.conv3x3BackwardFilter({ x: u.x!, gy: u.gy!, gw: u.gw! }, s);
      },
      tolerance: { y: 1e-5, gx: 1e-4, gw: 1e-4 },
    };
  });
}

/**
 * The general convolution: the fast recipe's 2x2 valid whitening layer on 32x32 (31x31 out),
 * 3x3 same, 1x1, even and odd kernels with more padding than "same", and a kernel as large as
 * the image.
 */
function generalConvCases(): KernelCase[] {
  const shapes = [
    { n: 2, h: 32, w: 32, cin: 3, cout: 24, k: 2, pad: 0 },
    { n: 3, h: 7, w: 5, cin: 5, cout: 9, k: 3, pad: 1 },
    { n: 2, h: 4, w: 6, cin: 17, cout: 3, k: 1, pad: 0 },
    { n: 1, h: 6, w: 5, cin: 2, cout: 7, k: 4, pad: 2 },
    { n: 2, h: 5, w: 5, cin: 3, cout: 4, k: 5, pad: 0 },
  ];
  return shapes.map((shape, i) => {
    const s = convShape(shape);
    const weights = s.k * s.k * s.cin * s.cout;
    const out = s.n * s.oh * s.ow * s.cout;
    return {
      name: `conv forward, backward-data, backward-filter ${JSON.stringify(shape)}`,
      inputs: {
        x: randomArray(s.n * s.h * s.w * s.cin, 40 + i),
        w: randomArray(weights, 50 + i, 1 / Math.sqrt(s.k * s.k * s.cin)),
        gy: randomArray(out, 60 + i),
      },
      outputs: { y: out, gx: s.n * s.h * s.w * s.cin, gw: weights },
      run: (b: Backend, u: Buffers) => {
        b.conv({ x: u.x!, w: u.w!, y: u.y! }, s);
        b.convBackwardData({ gy: u.gy!, w: u.w!, gx: u.gx! }, s);
        b.convBackwardFilter({ x: u.x!, gy: u.gy!, gw: u.gw! }, s);
      },
      tolerance: { y: 1e-5, gx: 1e-5, gw: 1e-4 },
    };
  });
}

/**
 * More rows than one reduction chunk, channel counts that are not multiples of 64-channel
 * workgroups, and a mean that dwarfs the spread (where one-pass variance cancels).
 */
function batchNormCases(): KernelCase[] {
  const shapes = [
    { rows: 1, channels: 3, offset: 0 },
    { rows: 35, channels: 3, offset: 0 },
    { rows: 37, channels: 5, offset: 0 },
    { rows: 3 * 28 * 28, channels: 65, offset: 0.5 },
    { rows: 2048, channels: 64, offset: 0 },
    { rows: 300, channels: 8, offset: 100 },
    { rows: 3000, channels: 19, offset: 50 },
    { rows: 70, channels: 1028, offset: 0 },
  ];
  return shapes.flatMap(({ rows, channels, offset }) => [false, true].flatMap((relu): KernelCase[] => {
    const s = { rows, channels, eps: 1e-5, relu };
    const shape = `rows=${rows} c=${channels} offset=${offset} relu=${relu}`;
    const size = rows * channels;
    const common = {
      x: randomArray(size, rows + channels, 2, offset),
      gamma: randomArray(channels, 2, 0.5, 1),
      beta: randomArray(channels, 3, 0.5),
    };
    return [
      {
        // The backward pass takes y, mean and invstd from the same backend's forward, as in training.
        name: `batchNormTrain then batchNormBackward ${shape}`,
        inputs: {
          ...common, gy: randomArray(size, 4),
          runningMean: randomArray(channels, 5), runningVar: randomArray(channels, 6, 0.5, 1),
        },
        outputs: { y: size, mean: channels, invstd: channels, gx: size, ggamma: channels, gbeta: channels },
        run: (b: Backend, u: Buffers) => {
          b.batchNormTrain({
            x: u.x!, gamma: u.gamma!, beta: u.beta!, y: u.y!, mean: u.mean!, invstd: u.invstd!,
            runningMean: u.runningMean!, runningVar: u.runningVar!,
          }, { ...s, momentum: 0.1 });
          b.batchNormBackward({
            x: u.x!, y: u.y!, gy: u.gy!, gamma: u.gamma!, mean: u.mean!, invstd: u.invstd!, gx: u.gx!, ggamma: u.ggamma!, gbeta: u.gbeta!,
          }, s);
        },
        tolerance: {
          y: 1e-5, mean: 1e-5, invstd: 1e-5, runningMean: 1e-5, runningVar: 1e-5,
          gx: 1e-4, ggamma: 1e-4, gbeta: 1e-4,
        },
      },
      {
        name: `batchNormEval ${shape}`,
        inputs: {
          ...common, runningMean: randomArray(channels, 7, 0.1, offset), runningVar: randomArray(channels, 8, 0.5, 1),
        },
        outputs: { y: size },
        run: (b: Backend, u: Buffers) => b.batchNormEval({
          x: u.x!, gamma: u.gamma!, beta: u.beta!, runningMean: u.runningMean!, runningVar: u.runningVar!, y: u.y!,
        }, s),
        tolerance: { y: 1e-5 },
      },
    ];
  }));
}

/** Integer inputs make ties common: the gradient must go to the first maximum in scan order. */
function poolingCases(): KernelCase[] {
  const windows = [{ n: 1, h: 5, w: 7, c: 3 }, { n: 3, h: 7, w: 5, c: 3 }, { n: 3, h: 8, w: 8, c: 17 },
    { n: 2, h: 4, w: 3, c: 64 }, { n: 1, h: 32, w: 32, c: 64 }, { n: 2, h: 28, w: 28, c: 5 }];
  const global = [{ n: 3, spatial: 9, c: 5 }, { n: 1, spatial: 16, c: 512 }, { n: 2, spatial: 1, c: 3 }];
  return [
    ...windows.map((s, i) => {
      const size = s.n * s.h * s.w * s.c;
      const pooled = s.n * Math.floor(s.h / 2) * Math.floor(s.w / 2) * s.c;
      return {
        name: `maxPool2x2 and backward ${JSON.stringify(s)}`,
        inputs: { x: randomIntegers(size, i + 1, 3), gy: randomArray(pooled, i + 2) },
        outputs: { y: pooled, gx: size },
        run: (b: Backend, u: Buffers) => {
          b.maxPool2x2({ x: u.x!, y: u.y! }, s);
          b.maxPool2x2Backward({ x: u.x!, gy: u.gy!, gx: u.gx! }, s);
        },
        tolerance: {},
      };
    }),
    ...global.map((s, i) => ({
      name: `globalMaxPool and backward ${JSON.stringify(s)}`,
      inputs: { x: randomIntegers(s.n * s.spatial * s.c, i + 5, 4), gy: randomArray(s.n * s.c, i + 6) },
      outputs: { y: s.n * s.c, gx: s.n * s.spatial * s.c },
      run: (b: Backend, u: Buffers) => {
        b.globalMaxPool({ x: u.x!, y: u.y! }, s);
        b.globalMaxPoolBackward({ x: u.x!, gy: u.gy!, gx: u.gx! }, s);
      },
      tolerance: {},
    })),
  ];
}

function matmulCases(): KernelCase[] {
  const sizes = [[1, 1, 1], [7, 13, 10], [7, 33, 10], [3, 512, 10], [64, 512, 10], [130, 70, 66]] as const;
  return sizes.flatMap(([m, k, n]) => [false, true].flatMap((transA) => [false, true].map((transB) => {
    const s = { m, k, n, transA, transB };
    return {
      name: `matmul ${JSON.stringify(s)}`,
      inputs: { a: randomArray(m * k, m + k), b: randomArray(k * n, k + n) },
      outputs: { out: m * n },
      run: (b: Backend, u: Buffers) => b.matmul({ a: u.a!, b: u.b!, out: u.out! }, s),
      tolerance: { out: 1e-5 },
    };
  })));
}

function elementwiseCases(): KernelCase[] {
  return [1, 17, 1000, 200_003].flatMap((length) => {
    const a = randomArray(length, 1);
    const b = randomArray(length, 2);
    const name = (op: string): string => `${op} length=${length}`;
    const cases: KernelCase[] = [
      { name: name('add'), inputs: { a, b }, outputs: { out: length }, run: (k, u) => k.add({ a: u.a!, b: u.b!, out: u.out! }, { length }), tolerance: {} },
      { name: name('add in place'), inputs: { a, b }, outputs: {}, run: (k, u) => k.add({ a: u.a!, b: u.b!, out: u.a! }, { length }), tolerance: {} },
      {
        // -0.37 is not a float32: backends round it once before multiplying, the reference does not.
        name: name('scale'), inputs: { a }, outputs: { out: length },
        run: (k, u) => k.scale({ a: u.a!, out: u.out! }, { alpha: -0.37, length }), tolerance: { out: 1e-7 },
      },
      { name: name('scale in place'), inputs: { a }, outputs: {}, run: (k, u) => k.scale({ a: u.a!, out: u.a! }, { alpha: 3.5, length }), tolerance: {} },
      { name: name('fill'), inputs: { a }, outputs: {}, run: (k, u) => k.fill(u.a!, 0.25), tolerance: {} },
      { name: name('copy'), inputs: { a }, outputs: { out: length }, run: (k, u) => k.copy(u.a!, u.out!), tolerance: {} },
    ];
    if (length > 1) {
      // A prefix: the elements past `length` must keep their contents.
      cases.push({
        name: name('scale a prefix'), inputs: { a, out: b }, outputs: {},
        run: (k, u) => k.scale({ a: u.a!, out: u.out! }, { alpha: 2, length: length - 1 }), tolerance: {},
      });
    }
    for (const nesterov of [false, true]) {
      const h = { length, lr: 0.4, momentum: 0.9, weightDecay: 5e-4, nesterov };
      cases.push({
        name: name(`two sgdStep calls, nesterov=${nesterov}`),
        inputs: { param: a, grad: b, velocity: randomArray(length, 3) },
        outputs: {},
        run: (k, u) => {
          const buffers = { param: u.param!, grad: u.grad!, velocity: u.velocity! };
          k.sgdStep(buffers, h);
          k.sgdStep(buffers, { ...h, lr: 0.2 });
        },
        tolerance: { param: 1e-6, velocity: 1e-6 },
      });
    }
    cases.push({
      name: name('lerp towards b'),
      inputs: { a, b },
      outputs: {},
      run: (k, u) => k.lerp({ a: u.a!, b: u.b! }, { t: 0.35, length }),
      tolerance: { a: 1e-7 },
    });
    return cases;
  });
}

/**
 * Inputs out to +-6 reach both tails of GELU, where the backends' float32 normal CDF must keep
 * its accuracy; the tolerance is that of its erfc approximation (absolute error 1.5e-7).
 */
function activationCases(): KernelCase[] {
  const bias = [{ rows: 1, channels: 1 }, { rows: 37, channels: 5 }, { rows: 31 * 31 * 4, channels: 24 }, { rows: 3000, channels: 130 }].map(({ rows, channels }) => ({
    name: `addBias and biasBackward rows=${rows} channels=${channels}`,
    inputs: { x: randomArray(rows * channels, 9), bias: randomArray(channels, 10), gy: randomArray(rows * channels, 11) },
    outputs: { y: rows * channels, gbias: channels },
    run: (b: Backend, u: Buffers) => {
      b.addBias({ x: u.x!, bias: u.bias!, y: u.y! }, { rows, channels });
      b.biasBackward({ gy: u.gy!, gbias: u.gbias! }, { rows, channels });
    },
    // A float32 sum over thousands of rows (WebGPU's, in one thread) against a float64 one.
    tolerance: { y: 0, gbias: 1e-5 },
  }));
  return [...bias, ...[1, 17, 1000, 200_003].map((length) => ({
    name: `gelu and backward length=${length}`,
    inputs: { x: randomArray(length, 7, 6), gy: randomArray(length, 8) },
    outputs: { y: length, gx: length },
    run: (b: Backend, u: Buffers) => {
      b.gelu({ x: u.x!, y: u.y! }, { length });
      b.geluBackward({ x: u.x!, gy: u.gy!, gx: u.gx! }, { length });
    },
    tolerance: { y: 1e-6, gx: 1e-6 },
  }))];
}

function lossCases(): KernelCase[] {
  return ([[1, 1], [1, 2], [3, 10], [5, 10], [300, 10], [512, 7], [512, 10]] as const).flatMap(([n, k]) => {
    const labels = randomIntegers(n, 2, k);
    const cases: KernelCase[] = [0, 0.2].map((smoothing) => ({
      name: `crossEntropy and backward n=${n} k=${k} smoothing=${smoothing}`,
      inputs: { logits: randomArray(n * k, n + k, 4), labels, gloss: Float32Array.of(1.7) },
      outputs: { probs: n * k, loss: 1, glogits: n * k },
      run: (b: Backend, u: Buffers) => {
        b.crossEntropy({ logits: u.logits!, labels: u.labels!, probs: u.probs!, loss: u.loss! }, { n, k, smoothing });
        b.crossEntropyBackward({ probs: u.probs!, labels: u.labels!, gloss: u.gloss!, glogits: u.glogits! }, { n, k, smoothing });
      },
      tolerance: { probs: 1e-5, loss: 1e-5, glogits: 1e-5 },
    }));
    cases.push({
      // Integer logits: ties, where the first maximum decides. Two calls: it accumulates.
      name: `accumulateMetrics twice n=${n} k=${k}`,
      inputs: { logits: randomIntegers(n * k, 5, 3), labels, stats: Float32Array.of(5, 2.5) },
      outputs: {},
      run: (b: Backend, u: Buffers) => {
        const buffers = { logits: u.logits!, labels: u.labels!, stats: u.stats! };
        b.accumulateMetrics(buffers, { n, k });
        b.accumulateMetrics(buffers, { n, k });
      },
      tolerance: { stats: 1e-5 },
    });
    return cases;
  });
}

export const kernelCases: Record<KernelFamily, () => KernelCase[]> = {
  'conv3x3': () => convCases(edgeConvShapes),
  'conv3x3-layers': () => convCases(layerConvShapes),
  'conv': generalConvCases,
  'batchnorm': batchNormCases,
  'pooling': poolingCases,
  'matmul': matmulCases,
  'elementwise': elementwiseCases,
  'activation': activationCases,
  'loss': lossCases,
};

export const allKernelFamilies = Object.keys(kernelCases) as KernelFamily[];
