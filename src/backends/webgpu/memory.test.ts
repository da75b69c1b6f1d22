/**
 * Memory and stream behaviour of the WebGPU backend: size buckets, buffer reuse (a repeated
 * step allocates nothing new), partial writes, misuse errors, and device loss turning into a
 * UserError instead of a hang.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { UserError } from '../../core/errors.js';
import { ensureSoftwareVulkan } from '../../testing/vulkan.js';
import { dawn } from './dawn.js';
import { openDevice } from './device.js';
import { fill } from './elementwise.js';
import { KernelContext } from './context.js';
import { closeGpuForTests, gpuForTests } from '../../testing/gpu-for-tests.js';
import { randomArray } from '../../testing/kernel-check.js';
import { bucketBytes, SlabPool } from './memory.js';
import { CommandStream } from './stream.js';

after(closeGpuForTests);

describe('webgpu memory', () => {
  test('buckets: at least 256 bytes, at most 25% slack, shared by nearby sizes', () => {
    assert.equal(bucketBytes(1), 256);
    assert.equal(bucketBytes(256), 256);
    assert.equal(bucketBytes(257), 320);
    assert.equal(bucketBytes(4000), 4096);
    assert.equal(bucketBytes(4040), 4096);
    assert.equal(bucketBytes(4097), 5120);
    for (let bytes = 1; bytes < 1e7; bytes = Math.ceil(bytes * 1.37)) {
      const bucket = bucketBytes(bytes);
      assert.ok(bucket >= bytes && bucket <= Math.max(256, bytes * 1.25), `${bytes} -> ${bucket}`);
    }
  });

  test('a released buffer is reused for the next allocation of its bucket', async (t) => {
    const gpu = await gpuForTests(t);
    if (!gpu) return;
    const before = gpu.memoryStats();
    const a = gpu.alloc(1000);
    assert.equal(gpu.memoryStats().liveBytes - before.liveBytes, 4096);
    gpu.release(a);
    const pooled = gpu.memoryStats().pooledBytes;
    const b = gpu.alloc(1010);
    assert.equal(gpu.memoryStats().pooledBytes, pooled - 4096);
    gpu.release(b);
    assert.deepEqual(gpu.memoryStats(), { liveBytes: before.liveBytes, pooledBytes: pooled });
  });

  test('a repeated sequence of kernels allocates nothing after its first run', async (t) => {
    const gpu = await gpuForTests(t);
    if (!gpu) return;
    const s = { n: 2, h: 8, w: 8, cin: 3, cout: 16 };
    const step = async (): Promise<void> => {
      const x = gpu.alloc(s.n * s.h * s.w * s.cin);
      const w = gpu.alloc(9 * s.cin * s.cout);
      const y = gpu.alloc(s.n * s.h * s.w * s.cout);
      gpu.fill(x, 1);
      gpu.fill(w, 0.5);
      gpu.conv3x3({ x, w, y }, s);
      gpu.conv3x3BackwardFilter({ x, gy: y, gw: w }, s);
      gpu.conv3x3BackwardData({ gy: y, w, gx: x }, s);
      await gpu.read(x);
      for (const buffer of [x, w, y]) gpu.release(buffer);
    };
    await step();
    const first = gpu.memoryStats();
    await step();
    assert.deepEqual(gpu.memoryStats(), first);
  });

  test('write at an offset touches only its range; an empty buffer reads back empty', async (t) => {
    const gpu = await gpuForTests(t);
    if (!gpu) return;
    const buf = gpu.alloc(10);
    gpu.fill(buf, -1);
    gpu.write(buf, new Float32Array([1, 2, 3]), 4);
    assert.deepEqual([...(await gpu.read(buf))], [-1, -1, -1, -1, 1, 2, 3, -1, -1, -1]);
    assert.throws(() => gpu.write(buf, new Float32Array(3), 8), /overruns/);
    gpu.release(buf);
    const empty = gpu.alloc(0);
    assert.equal((await gpu.read(empty)).length, 0);
    gpu.release(empty);
  });

  test('using a buffer after release is an error, not silent corruption', async (t) => {
    const gpu = await gpuForTests(t);
    if (!gpu) return;
    const buf = gpu.alloc(4);
    gpu.release(buf);
    assert.throws(() => gpu.fill(buf, 0), /after release/);
  });

  test('reads spanning many submits see every kernel in order', async (t) => {
    const gpu = await gpuForTests(t);
    if (!gpu) return;
    const data = randomArray(777, 1);
    const a = gpu.alloc(data.length);
    gpu.write(a, data);
    for (let i = 0; i < 300; i++) gpu.scale({ a, out: a }, { alpha: i % 2 ? 2 : 0.5, length: data.length });
    assert.deepEqual(await gpu.read(a), data);
    gpu.release(a);
  });

  test('after device loss, calls throw a UserError instead of hanging', async (t) => {
    ensureSoftwareVulkan();
    const { gpu, constants } = dawn();
    const opened = await openDevice(gpu, { minBufferBytes: 1 << 20 }).catch((error: unknown) => {
      if (error instanceof UserError && !process.env.CI) return null;
      throw error;
    });
    if (!opened) return t.skip('no WebGPU adapter');
    const { GPUBufferUsage } = constants;
    const pool = new SlabPool(opened.device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 1 << 20);
    const stream = new CommandStream(opened.device, constants, pool);
    const slab = pool.take(64);
    fill(new KernelContext(stream, pool), slab, 16, 1);
    const pending = stream.readBack(slab, 64);
    opened.device.destroy();
    await assert.rejects(pending, UserError);
    assert.throws(() => fill(new KernelContext(stream, pool), slab, 16, 1), /device was lost/);
  });
});
