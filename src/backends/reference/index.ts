/**
 * @file The reference backend: every kernel of src/core/backend.ts as the plainest loops.
 *
 * It is the executable specification that the native and WebGPU backends are tested against
 * (beside the PyTorch fixtures), so clarity wins over speed everywhere. Reductions accumulate
 * in float64 so that it is a little more accurate than the float32 backends it judges.
 */
import type { Backend, Conv3x3Shape, ConvShape, DeviceBuffer, GlobalPoolShape, MatmulShape, Pool2x2Shape } from '../../core/backend.js';
import { bindKernels, type KernelImplementations } from '../../core/kernels.js';
import { normalCdf, normalDensity } from './normal.js';

/** Host memory: float32 like every backend, or float64 for gradient checks by finite differences. */
type HostArray = Float32Array | Float64Array;

class HostBuffer implements DeviceBuffer {
  constructor(readonly data: HostArray) {}
  get length(): number {
    return this.data.length;
  }
}

const host = (b: DeviceBuffer): HostArray => (b as HostBuffer).data;

export interface ReferenceBackendOptions {
  /**
   * 'float64' stores every buffer in float64, so that whole computations (not only reductions)
   * run in double precision: what finite-difference gradient checks need. Default 'float32'.
   */
  precision?: 'float32' | 'float64';
}

/** The reference backend, with exact access to its float64 buffers. */
export interface ReferenceBackend extends Backend {
  /** The buffer's values at the backend's precision (float64 ones stay float64). */
  readExact(buf: DeviceBuffer): Float64Array;
  /** Overwrite the buffer with `values` at the backend's precision. */
  writeExact(buf: DeviceBuffer, values: Float64Array): void;
}

/**
 * Calls f(pixel, tap, neighbour) for every output pixel and every in-bounds tap of its k x k
 * window: tap = ky * k + kx, neighbour = the input pixel at (y + ky - pad, x + kx - pad).
 */
function forEachTap(
  s: ConvShape,
  f: (pixel: number, tap: number, neighbour: number) => void,
): void {
  for (let n = 0; n < s.n; n++) {
    for (let y = 0; y < s.oh; y++) {
      for (let x = 0; x < s.ow; x++) {
        const pixel = (n * s.oh + y) * s.ow + x;
        for (let ky = 0; ky < s.k; ky++) {
          const iy = y + ky - s.pad;
          if (iy < 0 || iy >= s.h) continue;
          for (let kx = 0; kx < s.k; kx++) {
            const ix = x + kx - s.pad;
            if (ix < 0 || ix >= s.w) continue;
            f(pixel, ky * s.k + kx, (n * s.h + iy) * s.w + ix);
          }
        }
      }
    }
  }
}

/** The 3x3 convolutions are the general ones with k = 3 and padding 1. */
const as3x3 = (s: Conv3x3Shape): ConvShape => ({ ...s, k: 3, pad: 1, oh: s.h, ow: s.w });

export function createReferenceBackend(options: ReferenceBackendOptions = {}): ReferenceBackend {
  const Storage = options.precision === 'float64' ? Float64Array : Float32Array;
  let liveBytes = 0;
  return {
    name: options.precision === 'float64' ? 'reference (float64)' : 'reference',

    alloc(length) {
      liveBytes += length * Storage.BYTES_PER_ELEMENT;
      return new HostBuffer(new Storage(length));
    },
    release(buf) {
      liveBytes -= buf.length * Storage.BYTES_PER_ELEMENT;
    },
    write(buf, data, offset = 0) {
      host(buf).set(data, offset);
    },
    async read(buf) {
      return Float32Array.from(host(buf));
    },
    readExact: (buf) => Float64Array.from(host(buf)),
    writeExact(buf, values) {
      host(buf).set(values);
    },
    fill(buf, value) {
      host(buf).fill(value);
    },
    copy(src, dst) {
      host(dst).set(host(src));
    },
    memoryStats: () => ({ liveBytes, pooledBytes: 0 }),
    async sync() {},
    // Nothing pooled: released arrays go to the garbage collector at once.
    trim() {},
    dispose() {},
    ...bindKernels(referenceKernels, host),
  };
}

const referenceKernels: KernelImplementations<HostArray> = {
  conv3x3: (buffers, s) => referenceKernels.conv(buffers, as3x3(s)),
  conv3x3BackwardData: (buffers, s) => referenceKernels.convBackwardData(buffers, as3x3(s)),
  conv3x3BackwardFilter: (buffers, s) => referenceKernels.convBackwardFilter(buffers, as3x3(s)),

  conv({ x, w, y }, s) {
    const acc = new Float64Array(s.n * s.oh * s.ow * s.cout);
    forEachTap(s, (p, tap, q) => {
      for (let ci = 0; ci < s.cin; ci++) {
        const v = x[q * s.cin + ci];
        const wRow = (tap * s.cin + ci) * s.cout;
        for (let co = 0; co < s.cout; co++) acc[p * s.cout + co] += v * w[wRow + co];
      }
    });
    y.set(acc);
  },
  convBackwardData({ gy, w, gx }, s) {
    // d(y[p, co]) / d(x[q, ci]) = w[tap, ci, co] for every tap linking output p to input q.
    const acc = new Float64Array(s.n * s.h * s.w * s.cin);
    forEachTap(s, (p, tap, q) => {
      for (let ci = 0; ci < s.cin; ci++) {
        const wRow = (tap * s.cin + ci) * s.cout;
        let sum = 0;
        for (let co = 0; co < s.cout; co++) sum += gy[p * s.cout + co] * w[wRow + co];
        acc[q * s.cin + ci] += sum;
      }
    });
    gx.set(acc);
  },
  convBackwardFilter({ x, gy, gw }, s) {
    const acc = new Float64Array(s.k * s.k * s.cin * s.cout);
    forEachTap(s, (p, tap, q) => {
      for (let ci = 0; ci < s.cin; ci++) {
        const v = x[q * s.cin + ci];
        const wRow = (tap * s.cin + ci) * s.cout;
        for (let co = 0; co < s.cout; co++) acc[wRow + co] += v * gy[p * s.cout + co];
      }
    });
    gw.set(acc);
  },

  batchNormTrain({ x, gamma, beta, y, mean, invstd, runningMean: rm, runningVar: rv }, s) {
    const { rows, channels: C, momentum } = s;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += x[r * C + c];
      const m = sum / rows;
      let sq = 0;
      for (let r = 0; r < rows; r++) sq += (x[r * C + c] - m) ** 2;
      const variance = sq / rows;
      const is = 1 / Math.sqrt(variance + s.eps);
      mean[c] = m;
      invstd[c] = is;
      rm[c] = (1 - momentum) * rm[c] + momentum * m;
      rv[c] = (1 - momentum) * rv[c] + momentum * (rows > 1 ? (sq / (rows - 1)) : variance);
      for (let r = 0; r < rows; r++) {
        const v = gamma[c] * (x[r * C + c] - m) * is + beta[c];
        y[r * C + c] = s.relu && v < 0 ? 0 : v;
      }
    }
  },
  batchNormEval({ x, gamma, beta, runningMean: rm, runningVar: rv, y }, s) {
    const C = s.channels;
    for (let i = 0; i < s.rows * C; i++) {
      const c = i % C;
      const v = (gamma[c] * (x[i] - rm[c])) / Math.sqrt(rv[c] + s.eps) + beta[c];
      y[i] = s.relu && v < 0 ? 0 : v;
    }
  },
  batchNormBackward({ x, y, gy, gamma, mean, invstd, gx, ggamma, gbeta }, s) {
    const { rows, channels: C } = s;
    const g = (i: number): number => (s.relu && y[i] <= 0 ? 0 : gy[i]);
    for (let c = 0; c < C; c++) {
      let sumG = 0;
      let sumGX = 0;
      for (let r = 0; r < rows; r++) {
        const i = r * C + c;
        sumG += g(i);
        sumGX += g(i) * (x[i] - mean[c]) * invstd[c];
      }
      gbeta[c] = sumG;
      ggamma[c] = sumGX;
      for (let r = 0; r < rows; r++) {
        const i = r * C + c;
        const xhat = (x[i] - mean[c]) * invstd[c];
        gx[i] = gamma[c] * invstd[c] * (g(i) - sumG / rows - (xhat * sumGX) / rows);
      }
    }
  },

  maxPool2x2({ x, y }, s) {
    forEachPoolWindow(s, (out, first) => {
      let best = first[0];
      for (const i of first) if (x[i] > x[best]) best = i;
      y[out] = x[best];
    });
  },
  maxPool2x2Backward({ x, gy, gx }, s) {
    gx.fill(0);
    forEachPoolWindow(s, (out, window) => {
      let best = window[0];
      for (const i of window) if (x[i] > x[best]) best = i;
      gx[best] += gy[out];
    });
  },
  globalMaxPool({ x, y }, s) {
    forEachGlobalArgmax(x, s, (out, best) => (y[out] = x[best]));
  },
  globalMaxPoolBackward({ x, gy, gx }, s) {
    gx.fill(0);
    forEachGlobalArgmax(x, s, (out, best) => (gx[best] = gy[out]));
  },

  matmul({ a, b, out }, s) {
    matmulInto(a, b, out, s);
  },
  add({ a, b, out }, { length }) {
    for (let i = 0; i < length; i++) out[i] = a[i] + b[i];
  },
  scale({ a, out }, { alpha, length }) {
    for (let i = 0; i < length; i++) out[i] = a[i] * alpha;
  },

  addBias({ x, bias, y }, { rows, channels }) {
    for (let i = 0; i < rows * channels; i++) y[i] = x[i] + bias[i % channels];
  },
  biasBackward({ gy, gbias }, { rows, channels }) {
    const sums = new Float64Array(channels);
    for (let i = 0; i < rows * channels; i++) sums[i % channels] += gy[i];
    gbias.set(sums);
  },

  gelu({ x, y }, { length }) {
    for (let i = 0; i < length; i++) y[i] = x[i] * normalCdf(x[i]);
  },
  geluBackward({ x, gy, gx }, { length }) {
    for (let i = 0; i < length; i++) gx[i] = gy[i] * (normalCdf(x[i]) + x[i] * normalDensity(x[i]));
  },

  crossEntropy({ logits, labels, probs, loss }, { n, k, smoothing }) {
    let total = 0;
    for (let r = 0; r < n; r++) {
      const logZ = logSumExp(logits, r * k, k);
      for (let j = 0; j < k; j++) {
        const logp = logits[r * k + j] - logZ;
        probs[r * k + j] = Math.exp(logp);
        total -= smoothedTarget(j, labels[r], k, smoothing) * logp;
      }
    }
    loss[0] = total / n;
  },
  crossEntropyBackward({ probs, labels, gloss, glogits }, { n, k, smoothing }) {
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < k; j++) {
        const i = r * k + j;
        glogits[i] = (gloss[0] * (probs[i] - smoothedTarget(j, labels[r], k, smoothing))) / n;
      }
    }
  },
  accumulateMetrics({ logits, labels, stats }, { n, k }) {
    let correct = 0;
    let loss = 0;
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (logits[r * k + j] > logits[r * k + best]) best = j;
      if (best === labels[r]) correct++;
      loss += logSumExp(logits, r * k, k) - logits[r * k + labels[r]];
    }
    stats[0] += correct;
    stats[1] += loss;
  },

  lerp({ a, b }, { t, length }) {
    for (let i = 0; i < length; i++) a[i] += t * (b[i] - a[i]);
  },
  sgdStep({ param: p, grad: g, velocity: v }, h) {
    for (let i = 0; i < h.length; i++) {
      const grad = g[i] + h.weightDecay * p[i];
      v[i] = h.momentum * v[i] + grad;
      p[i] -= h.lr * (h.nesterov ? grad + h.momentum * v[i] : v[i]);
    }
  },
};

/** Calls f(outputIndex, inputIndices) for each channel of each 2x2 window (row-major taps). */
function forEachPoolWindow(s: Pool2x2Shape, f: (out: number, window: number[]) => void): void {
  const oh = Math.floor(s.h / 2);
  const ow = Math.floor(s.w / 2);
  const at = (n: number, y: number, x: number, c: number): number => ((n * s.h + y) * s.w + x) * s.c + c;
  for (let n = 0; n < s.n; n++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++)
        for (let c = 0; c < s.c; c++) {
          const window = [at(n, 2 * y, 2 * x, c), at(n, 2 * y, 2 * x + 1, c), at(n, 2 * y + 1, 2 * x, c), at(n, 2 * y + 1, 2 * x + 1, c)];
          f(((n * oh + y) * ow + x) * s.c + c, window);
        }
}

/** Calls f(outputIndex, indexOfFirstMaximum) for each (image, channel). */
function forEachGlobalArgmax(x: HostArray, s: GlobalPoolShape, f: (out: number, best: number) => void): void {
  for (let n = 0; n < s.n; n++)
    for (let c = 0; c < s.c; c++) {
      let best = n * s.spatial * s.c + c;
      for (let p = 1; p < s.spatial; p++) {
        const i = (n * s.spatial + p) * s.c + c;
        if (x[i] > x[best]) best = i;
      }
      f(n * s.c + c, best);
    }
}

function matmulInto(a: HostArray, b: HostArray, out: HostArray, s: MatmulShape): void {
  // a is [m,k] (or [k,m] when transA); b is [k,n] (or [n,k] when transB).
  const aAt = s.transA ? (i: number, p: number) => a[p * s.m + i] : (i: number, p: number) => a[i * s.k + p];
  const bAt = s.transB ? (p: number, j: number) => b[j * s.k + p] : (p: number, j: number) => b[p * s.n + j];
  for (let i = 0; i < s.m; i++)
    for (let j = 0; j < s.n; j++) {
      let sum = 0;
      for (let p = 0; p < s.k; p++) sum += aAt(i, p) * bAt(p, j);
      out[i * s.n + j] = sum;
    }
}

function logSumExp(v: HostArray, start: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, v[start + j]);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(v[start + j] - max);
  return max + Math.log(sum);
}

/** PyTorch's label smoothing: (1 - s) * onehot + s / k. */
function smoothedTarget(j: number, label: number, k: number, smoothing: number): number {
  return (j === label ? 1 - smoothing : 0) + smoothing / k;
}
