/**
 * @file The kernel declarations: every kernel a backend runs, declared once, as data.
 *
 * A declaration names the kernel's buffers, in order, with what the kernel does to each and the
 * length each must have, and its scalar parameters, in order, with their kinds. Everything else
 * is derived from it:
 * - the kernel methods of `Backend` (src/core/backend.ts): `backend.conv3x3({ x, w, y }, shape)`;
 * - the type each backend implements (`KernelImplementations`): a backend that lacks a kernel
 *   does not compile, and `bindKernels` turns its implementations into `Backend` methods;
 * - the native addon's one generic binding (native/addon.cc): it receives these declarations
 *   when a context is created, refuses to load unless every declared kernel has a native entry
 *   whose C++ signature agrees (buffers, their constness, the scalars' types), and checks every
 *   call's buffers against the length rules below before a kernel touches memory;
 * - the conformance cases' completeness test (src/testing/kernel-cases.test.ts).
 *
 * Semantics every kernel follows (the reference backend, src/backends/reference, is the
 * executable specification):
 * - Activations are NHWC ("channels last"), contiguous. A [N,H,W,C] tensor is also a
 *   [rows = N*H*W, C] matrix, which is how batch norm sees it.
 * - 3x3 convolution weights are HWIO: [3][3][Cin][Cout]. The state dict converts to and from
 *   PyTorch's OIHW at the boundary (src/nn/state-dict.ts), never in the training loop.
 * - A `write` buffer is written completely and never read; an `update` buffer is read and
 *   written in place; a `read` buffer is left alone. An output may be the same buffer as an
 *   input of the same length only where a kernel says so (add, scale).
 * - Integer data (labels, class targets) travels as float32: exact up to 2^24.
 */
import type { DeviceBuffer } from './backend.js';

/** What a kernel does to a buffer. */
export type Access = 'read' | 'write' | 'update';

/**
 * The number of floats a buffer must hold: a product of factors, each an integer, a parameter,
 * or a parameter divided by an integer and rounded down ('n*h/2*w/2*c').
 */
export type LengthRule = string;

export interface BufferDeclaration {
  readonly access: Access;
  readonly length: LengthRule;
}

/** `size`: an integer >= 0; `count`: an integer >= 1; `number`: any float; `flag`: a boolean. */
export type ParamKind = 'size' | 'count' | 'number' | 'flag';

export interface KernelDeclaration {
  readonly buffers: Readonly<Record<string, BufferDeclaration>>;
  readonly params: Readonly<Record<string, ParamKind>>;
}

const read = (length: LengthRule) => ({ access: 'read', length }) as const;
const write = (length: LengthRule) => ({ access: 'write', length }) as const;
const update = (length: LengthRule) => ({ access: 'update', length }) as const;

/** x [n, h, w, cin] convolved with w [3, 3, cin, cout], stride 1, zero padding 1 -> [n, h, w, cout]. */
const conv3x3Params = { n: 'size', h: 'size', w: 'size', cin: 'size', cout: 'size' } as const;
/**
 * x [n, h, w, cin] convolved with w [k, k, cin, cout], stride 1, zero padding `pad` on every side
 * -> [n, oh, ow, cout]. The caller passes oh = h + 2 pad - k + 1 and ow = w + 2 pad - k + 1
 * (the buffer lengths are checked against them; kernels read only in-bounds input pixels).
 */
const convParams = {
  n: 'size', h: 'size', w: 'size', cin: 'size', cout: 'size', k: 'count', pad: 'size', oh: 'size', ow: 'size',
} as const;
/** Batch norm over a [rows, channels] view; `relu` fuses a ReLU (forward) / its mask (backward). */
const batchNormParams = { rows: 'count', channels: 'size', eps: 'number', relu: 'flag' } as const;
/** x [n, h, w, c] -> [n, floor(h/2), floor(w/2), c], 2x2 window, stride 2. */
const pool2x2Params = { n: 'size', h: 'size', w: 'size', c: 'size' } as const;
/** x [n, spatial, c] -> [n, c]: the maximum over the `spatial` positions of each image. */
const globalPoolParams = { n: 'size', spatial: 'count', c: 'size' } as const;
/** n rows of k logits; label smoothing s makes the target (1 - s) * onehot + s / k, as in PyTorch. */
const lossParams = { n: 'count', k: 'count', smoothing: 'number' } as const;

export const kernelDeclarations = {
  // ---- convolution ----------------------------------------------------------------------------
  /** y = conv3x3(x, w). */
  conv3x3: {
    buffers: { x: read('n*h*w*cin'), w: read('9*cin*cout'), y: write('n*h*w*cout') },
    params: conv3x3Params,
  },
  /** gx = dL/dx given gy = dL/dy (a 3x3 convolution with the flipped, transposed kernel). */
  conv3x3BackwardData: {
    buffers: { gy: read('n*h*w*cout'), w: read('9*cin*cout'), gx: write('n*h*w*cin') },
    params: conv3x3Params,
  },
  /** gw [3,3,cin,cout] = dL/dw = sum over n,h,w of input patches times gy. */
  conv3x3BackwardFilter: {
    buffers: { x: read('n*h*w*cin'), gy: read('n*h*w*cout'), gw: write('9*cin*cout') },
    params: conv3x3Params,
  },

  /** y = conv(x, w): any square kernel size and padding (the 2x2 valid whitening layer, 5x5, ...). */
  conv: {
    buffers: { x: read('n*h*w*cin'), w: read('k*k*cin*cout'), y: write('n*oh*ow*cout') },
    params: convParams,
  },
  /** gx = dL/dx given gy = dL/dy. */
  convBackwardData: {
    buffers: { gy: read('n*oh*ow*cout'), w: read('k*k*cin*cout'), gx: write('n*h*w*cin') },
    params: convParams,
  },
  /** gw [k,k,cin,cout] = dL/dw: the sum over every output pixel of its input patch times gy. */
  convBackwardFilter: {
    buffers: { x: read('n*h*w*cin'), gy: read('n*oh*ow*cout'), gw: write('k*k*cin*cout') },
    params: convParams,
  },

  // ---- batch norm (+ optional fused ReLU) -----------------------------------------------------
  /**
   * Training mode. Computes the batch mean and biased variance per channel, writes
   * y = act(gamma * (x - mean) * invstd + beta) with invstd = 1/sqrt(var + eps), and saves
   * `mean` and `invstd` for the backward pass. Updates the running statistics in place with
   * PyTorch's convention: r = (1 - momentum) * r + momentum * batch, where the running variance
   * takes the unbiased batch variance (var * rows / (rows - 1)).
   */
  batchNormTrain: {
    buffers: {
      x: read('rows*channels'), gamma: read('channels'), beta: read('channels'), y: write('rows*channels'),
      mean: write('channels'), invstd: write('channels'),
      runningMean: update('channels'), runningVar: update('channels'),
    },
    params: { momentum: 'number', ...batchNormParams },
  },
  /** Eval mode: y = act(gamma * (x - runningMean) / sqrt(runningVar + eps) + beta). */
  batchNormEval: {
    buffers: {
      x: read('rows*channels'), gamma: read('channels'), beta: read('channels'),
      runningMean: read('channels'), runningVar: read('channels'), y: write('rows*channels'),
    },
    params: batchNormParams,
  },
  /**
   * Backward of batchNormTrain. `y` is the forward output (used for the ReLU mask when relu);
   * `gy` the incoming gradient. With g = gy masked by (y > 0) when relu, xhat = (x - mean) * invstd:
   *   gbeta = sum g, ggamma = sum g * xhat,
   *   gx = gamma * invstd * (g - gbeta / rows - xhat * ggamma / rows).
   */
  batchNormBackward: {
    buffers: {
      x: read('rows*channels'), y: read('rows*channels'), gy: read('rows*channels'), gamma: read('channels'),
      mean: read('channels'), invstd: read('channels'),
      gx: write('rows*channels'), ggamma: write('channels'), gbeta: write('channels'),
    },
    params: batchNormParams,
  },

  // ---- pooling --------------------------------------------------------------------------------
  maxPool2x2: {
    buffers: { x: read('n*h*w*c'), y: write('n*h/2*w/2*c') },
    params: pool2x2Params,
  },
  /**
   * gx = gradient routed to the first maximum of each window (PyTorch's tie rule: scan order
   * row-major within the window); zero elsewhere, including the row/column dropped by floor.
   */
  maxPool2x2Backward: {
    buffers: { x: read('n*h*w*c'), gy: read('n*h/2*w/2*c'), gx: write('n*h*w*c') },
    params: pool2x2Params,
  },
  globalMaxPool: {
    buffers: { x: read('n*spatial*c'), y: write('n*c') },
    params: globalPoolParams,
  },
  /** gx [n, spatial, c]: gy routed to the first maximum per (image, channel), zero elsewhere. */
  globalMaxPoolBackward: {
    buffers: { x: read('n*spatial*c'), gy: read('n*c'), gx: write('n*spatial*c') },
    params: globalPoolParams,
  },

  // ---- dense ----------------------------------------------------------------------------------
  /** out [m, n] = op(a) [m, k] x op(b) [k, n]; op transposes when the flag is set. */
  matmul: {
    buffers: { a: read('m*k'), b: read('k*n'), out: write('m*n') },
    params: { m: 'size', k: 'size', n: 'size', transA: 'flag', transB: 'flag' },
  },
  /** out = a + b over the first `length` elements; `out` may be `a` or `b`. */
  add: {
    buffers: { a: read('length'), b: read('length'), out: write('length') },
    params: { length: 'size' },
  },
  /** out = a * alpha over the first `length` elements; `out` may be `a`. */
  scale: {
    buffers: { a: read('length'), out: write('length') },
    params: { alpha: 'number', length: 'size' },
  },

  /** y = x + bias, the bias broadcast over the rows of a [rows, channels] view; `y` may be `x`. */
  addBias: {
    buffers: { x: read('rows*channels'), bias: read('channels'), y: write('rows*channels') },
    params: { rows: 'size', channels: 'size' },
  },
  /** gbias = the sum over rows of gy: the bias's gradient. */
  biasBackward: {
    buffers: { gy: read('rows*channels'), gbias: write('channels') },
    params: { rows: 'size', channels: 'size' },
  },

  // ---- activations ----------------------------------------------------------------------------
  /** y = GELU(x) = x * Phi(x), Phi the standard normal CDF: PyTorch's exact (erf) GELU. */
  gelu: {
    buffers: { x: read('length'), y: write('length') },
    params: { length: 'size' },
  },
  /** gx = gy * GELU'(x) = gy * (Phi(x) + x * phi(x)), phi the standard normal density. */
  geluBackward: {
    buffers: { x: read('length'), gy: read('length'), gx: write('length') },
    params: { length: 'size' },
  },

  // ---- loss and metrics -----------------------------------------------------------------------
  /**
   * Softmax cross-entropy with label smoothing, mean over the batch. logits [n, k], labels [n]
   * (class indices as floats). Writes loss [1] and the softmax probabilities `probs` [n, k]
   * (saved for the backward pass).
   */
  crossEntropy: {
    buffers: { logits: read('n*k'), labels: read('n'), probs: write('n*k'), loss: write('1') },
    params: lossParams,
  },
  /** glogits = gloss[0] * (probs - target) / n. */
  crossEntropyBackward: {
    buffers: { probs: read('n*k'), labels: read('n'), gloss: read('1'), glogits: write('n*k') },
    params: lossParams,
  },
  /**
   * Accumulates into `stats`: stats[0] += number of rows whose argmax (first maximum) equals the
   * label, stats[1] += sum over rows of the unsmoothed cross-entropy. Lets the trainer count
   * accuracy and loss on the device and read them back rarely.
   */
  accumulateMetrics: {
    buffers: { logits: read('n*k'), labels: read('n'), stats: update('2') },
    params: { n: 'size', k: 'count' },
  },

  // ---- optimiser ------------------------------------------------------------------------------
  /**
   * One SGD step with PyTorch's semantics (torch.optim.SGD, dampening 0):
   *   g = grad + weightDecay * param
   *   velocity = momentum * velocity + g          (velocity starts at zero: pass a zeroed buffer)
   *   step = nesterov ? g + momentum * velocity : velocity
   *   param -= lr * step
   */
  sgdStep: {
    buffers: { param: update('length'), grad: read('length'), velocity: update('length') },
    params: { length: 'size', lr: 'number', momentum: 'number', weightDecay: 'number', nesterov: 'flag' },
  },
  /**
   * a += t * (b - a) over the first `length` elements: a moving average of weights (an EMA with
   * t = 1 - decay), or a step towards them (Lookahead).
   */
  lerp: {
    buffers: { a: update('length'), b: read('length') },
    params: { t: 'number', length: 'size' },
  },
} as const satisfies Record<string, KernelDeclaration>;

type Declarations = typeof kernelDeclarations;
export type KernelName = keyof Declarations;
export const kernelNames = Object.keys(kernelDeclarations) as KernelName[];

type ParamValue<P extends ParamKind> = P extends 'flag' ? boolean : number;

/** A kernel's buffers by name, as type B (a backend's own buffer type, or DeviceBuffer). */
export type KernelBuffers<K extends KernelName, B = DeviceBuffer> = { -readonly [N in keyof Declarations[K]['buffers']]: B };
/** A kernel's scalar parameters by name. */
export type KernelParams<K extends KernelName> = {
  -readonly [P in keyof Declarations[K]['params']]: ParamValue<Declarations[K]['params'][P] & ParamKind>;
};

/** The kernel methods of a backend: one per declaration, taking its buffers and its parameters. */
export type Kernels = { [K in KernelName]: (buffers: KernelBuffers<K>, params: KernelParams<K>) => void };

/** What a backend writes for each kernel: the same call, on the backend's own buffer type. */
export type KernelImplementations<B> = { [K in KernelName]: (buffers: KernelBuffers<K, B>, params: KernelParams<K>) => void };

/** The buffer names of a kernel, in their declared (positional) order. */
export function bufferNames(name: KernelName): string[] {
  return Object.keys(kernelDeclarations[name].buffers);
}

/** The parameter names of a kernel, in their declared (positional) order. */
export function paramNames(name: KernelName): string[] {
  return Object.keys(kernelDeclarations[name].params);
}

/**
 * A backend's kernel methods from its implementations: each call unwraps the DeviceBuffers into
 * the backend's own buffers (`unwrap`) and runs the implementation.
 */
export function bindKernels<B>(implementations: KernelImplementations<B>, unwrap: (buffer: DeviceBuffer) => B): Kernels {
  const bound: Record<string, unknown> = {};
  for (const name of kernelNames) {
    const names = bufferNames(name);
    const run = implementations[name] as (buffers: Record<string, B>, params: unknown) => void;
    bound[name] = (buffers: Record<string, DeviceBuffer>, params: unknown) => {
      const own: Record<string, B> = {};
      for (const b of names) own[b] = unwrap(buffers[b]!);
      run(own, params);
    };
  }
  return bound as Kernels;
}

/** One factor of a length rule: floor(params[param] / divisor), or `divisor` alone when param is -1. */
export interface LengthFactor {
  param: number;
  divisor: number;
}

/** Parses a length rule against the kernel's parameter names; throws naming the kernel on a bad rule. */
export function lengthFactors(kernel: string, rule: LengthRule, params: readonly string[]): LengthFactor[] {
  return rule.split('*').map((factor) => {
    const m = /^(?:(\d+)|([A-Za-z]\w*)(?:\/(\d+))?)$/.exec(factor.trim());
    if (!m) throw new Error(`kernel ${kernel}: length rule '${rule}': '${factor}' is not an integer, a parameter, or parameter/integer`);
    if (m[1] !== undefined) return { param: -1, divisor: Number(m[1]) };
    const param = params.indexOf(m[2]!);
    if (param < 0) throw new Error(`kernel ${kernel}: length rule '${rule}' names '${m[2]}', which is not one of its parameters (${params.join(', ')})`);
    const divisor = m[3] === undefined ? 1 : Number(m[3]);
    if (divisor < 1) throw new Error(`kernel ${kernel}: length rule '${rule}' divides by zero`);
    return { param, divisor };
  });
}

/** The number of floats a buffer needs under `factors`, given the call's parameter values. */
export function requiredLength(factors: readonly LengthFactor[], values: readonly number[]): number {
  return factors.reduce((product, f) => product * (f.param < 0 ? f.divisor : Math.floor(values[f.param]! / f.divisor)), 1);
}
