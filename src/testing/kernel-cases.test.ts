/**
 * @file The kernel declarations are whole: each rule parses, and every declared kernel is run by
 * some case of src/testing/kernel-cases.ts, so that src/backends/kernels.test.ts checks it on
 * every backend. A kernel added to src/core/kernels.ts without cases fails here, by name.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import type { Backend } from '../core/backend.js';
import { kernelDeclarations, kernelNames, lengthFactors, paramNames } from '../core/kernels.js';
import { allKernelFamilies, kernelCases } from './kernel-cases.js';

/** The declared kernels that no case calls. */
async function uncoveredKernels(declared: readonly string[]): Promise<string[]> {
  const called = new Set<string>();
  // The reference backend's memory, with kernels that only note that they were called.
  const recording = new Proxy(createReferenceBackend(), {
    get(target, key, receiver) {
      if (typeof key === 'string' && declared.includes(key)) return () => void called.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  }) as Backend;
  for (const family of allKernelFamilies) {
    for (const c of kernelCases[family]()) {
      const buffers = Object.fromEntries(
        [...Object.entries(c.inputs).map(([name, data]) => [name, data.length] as const), ...Object.entries(c.outputs)]
          .map(([name, length]) => [name, recording.alloc(length)]),
      );
      c.run(recording, buffers);
    }
  }
  return declared.filter((name) => !called.has(name));
}

it('every length rule of every declaration parses against its parameters', () => {
  for (const name of kernelNames) {
    for (const [buffer, { length }] of Object.entries(kernelDeclarations[name].buffers)) {
      assert.doesNotThrow(() => lengthFactors(name, length, paramNames(name)), `${name}.${buffer}`);
    }
  }
  assert.throws(() => lengthFactors('negate', 'n*size', ['n']), /kernel negate: length rule 'n\*size' names 'size'/);
});

it('every declared kernel has conformance cases', async () => {
  assert.deepEqual(await uncoveredKernels(kernelNames), []);
});

it('a declared kernel without cases is named', async () => {
  assert.deepEqual(await uncoveredKernels([...kernelNames, 'negate']), ['negate']);
});
