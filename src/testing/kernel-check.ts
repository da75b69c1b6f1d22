/**
 * @file Test support: run one kernel call on a backend under test and on the reference backend
 * (the executable specification) from the same initial buffers, and compare every buffer after.
 */
import assert from 'node:assert/strict';
import type { Backend, DeviceBuffer } from '../core/backend.js';
import { createReferenceBackend } from '../backends/reference/index.js';

export interface KernelCase {
  name: string;
  /** Initial contents of the buffers the call reads, and of those it updates in place. */
  inputs: Record<string, Float32Array>;
  /**
   * The lengths of the buffers the call must write completely. They start as NaN on both
   * backends, so an element a kernel leaves unwritten (or scales by zero) fails the comparison.
   */
  outputs: Record<string, number>;
  run(backend: Backend, buffers: Record<string, DeviceBuffer>): void;
  /**
   * Largest allowed ||ours - reference|| / ||reference|| per buffer; a buffer not named here
   * (an input the call must leave alone) must come back bit-identical.
   */
  tolerance: Record<string, number>;
}

const reference = createReferenceBackend();

export async function expectMatchesReference(backend: Backend, c: KernelCase): Promise<void> {
  const [expected, actual] = await Promise.all([runOn(reference, c), runOn(backend, c)]);
  for (const name of Object.keys(expected)) {
    const tolerance = c.tolerance[name] ?? 0;
    const error = relativeError(actual[name]!, expected[name]!);
    assert.ok(
      error <= tolerance,
      `${c.name}: buffer '${name}': relative error ${error.toExponential(2)} > ${tolerance} ` +
        `(first difference at ${firstDifference(actual[name]!, expected[name]!)})`,
    );
  }
}

async function runOn(backend: Backend, c: KernelCase): Promise<Record<string, Float32Array>> {
  const buffers: Record<string, DeviceBuffer> = {};
  for (const [name, data] of Object.entries(c.inputs)) {
    buffers[name] = backend.alloc(data.length);
    backend.write(buffers[name]!, data);
  }
  for (const [name, length] of Object.entries(c.outputs)) {
    buffers[name] = backend.alloc(length);
    backend.write(buffers[name]!, new Float32Array(length).fill(NaN));
  }
  c.run(backend, buffers);
  const out: Record<string, Float32Array> = {};
  for (const [name, buffer] of Object.entries(buffers)) {
    out[name] = await backend.read(buffer);
    backend.release(buffer);
  }
  return out;
}

/** ||a - b|| / ||b||, or ||a|| when b is all zeros; infinite when either holds NaN. */
export function relativeError(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  const error = norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
  return Number.isNaN(error) ? Infinity : error;
}

function firstDifference(a: Float32Array, b: Float32Array): string {
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= 1e-6 * Math.max(1, Math.abs(b[i]!)))) return `[${i}]: ${a[i]} vs ${b[i]}`;
  }
  return 'none above 1e-6';
}

/** Deterministic pseudo-random floats (mulberry32), uniform in [offset - scale, offset + scale). */
export function randomArray(length: number, seed: number, scale = 1, offset = 0): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = offset + scale * (2 * unit - 1);
  }
  return out;
}

/** Small integers in [0, k): class labels, or values with many ties. */
export function randomIntegers(length: number, seed: number, k: number): Float32Array {
  return randomArray(length, seed, 0.5, 0.5).map((u) => Math.min(k - 1, Math.floor(u * k)));
}
