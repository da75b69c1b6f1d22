/**
 * @file The op table: every differentiable op of the engine, each made by `defineOp`
 * (src/core/op.ts), so each has a backward. The gradient checks
 * (src/core/ops/gradients.test.ts) are typed by this table: an op added here without a check
 * does not compile.
 */
import type { Op } from '../op.js';
import { gelu } from './activation.js';
import { batchNorm } from './batchnorm.js';
import { conv, conv3x3 } from './conv.js';
import { add, addBias, linear, scale } from './dense.js';
import { crossEntropy } from './loss.js';
import { globalMaxPool, maxPool2x2 } from './pool.js';

export const ops = {
  add, scale, linear, addBias, conv3x3, conv, batchNorm, gelu, maxPool2x2, globalMaxPool, crossEntropy,
} as const satisfies Record<string, Op<never[]>>;

export type OpName = keyof typeof ops;
