/**
 * @file Numeric precision of a backend's matrix products (docs/precision.md).
 *
 * 'fp32': every kernel in float32. 'bf16': mixed precision as PyTorch's autocast runs it on a
 * CPU: the convolutions round their operands to bfloat16 and accumulate in float32; everything
 * else (batch norm, the loss, the optimiser, the weights themselves) stays float32.
 */

export type Precision = 'fp32' | 'bf16';
export const precisions: readonly Precision[] = ['fp32', 'bf16'];

const scratch = new Float32Array(1);
const bits = new Uint32Array(scratch.buffer);

/**
 * `v` rounded to the nearest bfloat16 (ties to even), as the CPU's VCVTNEPS2BF16 rounds it:
 * subnormals flush to signed zero, NaN stays NaN, infinities stay infinite.
 */
export function roundBf16(v: number): number {
  scratch[0] = v;
  const u = bits[0]!;
  if ((u & 0x7f800000) === 0) bits[0] = u & 0x80000000;
  else if ((u & 0x7fffffff) > 0x7f800000) bits[0] = u | 0x00400000;
  else bits[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return scratch[0];
}

/** A copy of `values` with every element rounded to bfloat16. */
export function roundedToBf16(values: Float32Array): Float32Array {
  return values.map(roundBf16);
}
