import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { UserError } from '../core/errors.js';
import { encodeSafetensors, parseSafetensors, requireF32, type SafeTensor } from './safetensors.js';

const tensors = new Map<string, SafeTensor>([
  ['a', { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
  ['n', { dtype: 'I64', shape: [], data: BigInt64Array.of(7n) }],
]);

it('round-trips tensors and metadata, data 8-byte aligned', () => {
  const bytes = encodeSafetensors(tensors, { k: 'v' });
  assert.equal((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8, 0);
  const file = parseSafetensors(bytes, 'x.safetensors');
  assert.deepEqual(file.metadata, { k: 'v' });
  assert.deepEqual(Array.from(file.tensors.get('a')!.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(file.tensors.get('a')!.shape, [2, 3]);
  assert.equal((file.tensors.get('n')!.data as BigInt64Array)[0], 7n);
});

it('names the file and the problem for truncated or corrupt files', () => {
  const bytes = encodeSafetensors(tensors);
  assert.throws(() => parseSafetensors(bytes.subarray(0, 4), 'f.st'), (e: Error) => e instanceof UserError && /f\.st.*too short/.test(e.message));
  assert.throws(() => parseSafetensors(bytes.subarray(0, bytes.length - 4), 'f.st'), /tensor 'n' ends at byte .* truncated/);
  const badHeader = Buffer.from(bytes);
  badHeader[9] = 0x7b; // '{' where the JSON expects a key
  assert.throws(() => parseSafetensors(badHeader, 'f.st'), /JSON header/);
  const huge = Buffer.from(bytes);
  huge.writeBigUInt64LE(10n ** 9n, 0);
  assert.throws(() => parseSafetensors(huge, 'f.st'), /truncated or not safetensors/);
});

it('requireF32 reports missing, mistyped and misshaped tensors by name', () => {
  const file = parseSafetensors(encodeSafetensors(tensors), 'f.st');
  assert.throws(() => requireF32(file, 'b', 'f.st'), /'b' is missing/);
  assert.throws(() => requireF32(file, 'n', 'f.st'), /'n' is I64, expected F32/);
  assert.throws(() => requireF32(file, 'a', 'f.st', [3, 2]), /shape \[2,3\], expected \[3,2\]/);
});
