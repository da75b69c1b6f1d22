/**
 * @file The CPU backend's own contracts beyond the kernels: pooled memory, the ISA and thread
 * settings, and the addon refusing buffers too small for a shape (instead of corrupting memory).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UserError } from '../../core/errors.js';
import { repoRoot } from '../../testing/paths.js';
import { createCpuBackend, isaPrecision, supportedIsas } from './index.js';
import { loadAddon, nativeDeclarations, type NativeDeclaration } from './native.js';

/** A native context made with `declarations` instead of src/core/kernels.ts's own. */
function contextWith(declarations: NativeDeclaration[]): void {
  const { Context } = loadAddon();
  new Context(1, 'scalar', 'auto', declarations).dispose();
}

describe('cpu backend', () => {
  it('recycles released buffers and accounts live and pooled bytes', () => {
    const b = createCpuBackend({ threads: 1 });
    const first = b.alloc(1000);
    b.write(first, Float32Array.of(1, 2, 3));
    assert.deepEqual(b.memoryStats(), { liveBytes: 4000, pooledBytes: 0 });
    b.release(first);
    assert.deepEqual(b.memoryStats(), { liveBytes: 0, pooledBytes: 4000 });
    const second = b.alloc(1000);
    assert.deepEqual(b.memoryStats(), { liveBytes: 4000, pooledBytes: 0 }, 'same size: taken from the pool');
    assert.throws(() => b.fill(first, 0), /used after release/);
    b.release(second);
    b.dispose();
  });

  it('lends a shorter request the start of a pooled array at most twice its length', () => {
    const b = createCpuBackend({ threads: 1 });
    const [big, huge] = [b.alloc(1024), b.alloc(4096)];
    [big, huge].forEach((x) => b.release(x));
    const view = b.alloc(1000);
    assert.equal(view.length, 1000);
    assert.deepEqual(b.memoryStats(), { liveBytes: 4096, pooledBytes: 16384 }, 'the 1024-float array, counted whole');
    b.release(view);
    const again = b.alloc(1024);
    assert.deepEqual(b.memoryStats(), { liveBytes: 4096, pooledBytes: 16384 }, 'the view returned its whole array to the pool');
    const small = b.alloc(1000);
    assert.deepEqual(b.memoryStats(), { liveBytes: 4096 + 4000, pooledBytes: 16384 }, 'the 4096-float array is too long to lend for 1000');
    b.release(again);
    b.trim();
    assert.deepEqual(b.memoryStats(), { liveBytes: 4000, pooledBytes: 0 }, 'trim hands back the pooled arrays, not the live one');
    b.release(small);
    b.dispose();
  });

  it('copies, fills, reads and bounds-checks writes', async () => {
    const b = createCpuBackend({ threads: 1 });
    const [x, y] = [b.alloc(4), b.alloc(4)];
    b.fill(x, 2.5);
    b.write(x, Float32Array.of(7), 3);
    b.copy(x, y);
    assert.deepEqual(Array.from(await b.read(y)), [2.5, 2.5, 2.5, 7]);
    assert.throws(() => b.write(x, new Float32Array(2), 3), RangeError);
    b.dispose();
  });

  it('rejects a buffer too small for the shape', () => {
    const b = createCpuBackend({ threads: 1 });
    const [x, w, y] = [b.alloc(2 * 3 * 3 * 4), b.alloc(9 * 4 * 5), b.alloc(10)];
    assert.throws(() => b.conv3x3({ x, w, y }, { n: 2, h: 3, w: 3, cin: 4, cout: 5 }), /conv3x3: y holds 10 floats but the shape needs 90/);
    b.dispose();
  });

  it('loads only when the native kernels and the declarations agree, naming the kernel that differs', () => {
    assert.doesNotThrow(() => contextWith(nativeDeclarations()));
    const negate: NativeDeclaration = {
      name: 'negate',
      native: 'negate',
      buffers: [{ name: 'a', access: 'read', length: [[0, 1]] }, { name: 'out', access: 'write', length: [[0, 1]] }],
      params: [{ name: 'length', kind: 'size' }],
    };
    assert.throws(() => contextWith([...nativeDeclarations(), negate]), /kernel 'negate' is declared in src\/core\/kernels.ts but the native addon has no kernel 'negate': add it to KS_KERNELS in native\/kernels.h/);
    assert.throws(() => contextWith(nativeDeclarations().filter((d) => d.native !== 'add')), /native kernel 'add' \(native\/kernels.h\) is not declared in src\/core\/kernels.ts/);
    const wrongAccess = nativeDeclarations().map((d) =>
      d.native === 'conv3x3' ? { ...d, buffers: d.buffers.map((b) => ({ ...b, access: 'read' as const })) } : d);
    assert.throws(() => contextWith(wrongAccess), /kernel 'conv3x3': src\/core\/kernels.ts declares buffers:scalars 'rrr:iiiii' but its C\+\+ signature in native\/kernels.h takes 'rrw:iiiii'/);
    const missingScalar = nativeDeclarations().map((d) => (d.native === 'scale' ? { ...d, params: d.params.slice(1) } : d));
    assert.throws(() => contextWith(missingScalar), /kernel 'scale': .* declares buffers:scalars 'rw:i' but .* takes 'rw:fi'/);
  });

  it('checks each call against the declaration: buffer types, integer sizes, argument count', () => {
    const b = createCpuBackend({ threads: 1 });
    const [a, out] = [b.alloc(4), b.alloc(4)];
    assert.throws(() => b.scale({ a, out }, { alpha: 2, length: 2.5 }), /scale: length must be an integer >= 0/);
    assert.throws(() => b.globalMaxPool({ x: a, y: out }, { n: 1, spatial: 0, c: 1 }), /globalMaxPool: spatial must be an integer >= 1/);
    assert.throws(() => b.matmul({ a, b: a, out }, { m: 2, k: 2, n: 2, transA: 0 as unknown as boolean, transB: false }), /matmul: transA must be a boolean/);
    b.dispose();
  });

  it('runs every ISA this CPU supports and refuses unknown ones by name', () => {
    const isas = supportedIsas();
    assert.ok(isas.includes('scalar'), 'the portable path is always there');
    for (const isa of isas) {
      const b = createCpuBackend({ isa, threads: 2 });
      assert.match(b.name, new RegExp(`\\(${isa}${isaPrecision(isa) === 'bf16' ? ' bf16' : ''}, 2 threads\\)`));
      assert.equal(b.precision, isaPrecision(isa));
      b.dispose();
    }
    const saved = process.env.KILOSECOND_ISA;
    try {
      process.env.KILOSECOND_ISA = 'sse9';
      assert.throws(() => createCpuBackend(), (err) => err instanceof UserError && /KILOSECOND_ISA.*sse9/.test(err.message));
      process.env.KILOSECOND_ISA = 'scalar';
      const b = createCpuBackend({ threads: 1 });
      assert.match(b.name, /scalar/);
      b.dispose();
    } finally {
      if (saved === undefined) delete process.env.KILOSECOND_ISA;
      else process.env.KILOSECOND_ISA = saved;
    }
  });

  it('picks the best table of the precision asked for; KILOSECOND_ISA forces a table of its own precision only', (t) => {
    const bf16 = supportedIsas().filter((isa) => isaPrecision(isa) === 'bf16');
    const fp32Default = createCpuBackend({ threads: 1 });
    assert.equal(fp32Default.precision, 'fp32', 'float32 unless bf16 is asked for');
    fp32Default.dispose();
    if (bf16.length === 0) {
      assert.throws(() => createCpuBackend({ precision: 'bf16' }), (err) => err instanceof UserError && /AMX or AVX512-BF16/.test(err.message));
      return t.skip('this CPU has neither AMX nor AVX512-BF16');
    }
    const best = createCpuBackend({ threads: 1, precision: 'bf16' });
    assert.match(best.name, new RegExp(`\\(${bf16[0]} bf16`));
    best.dispose();
    assert.throws(() => createCpuBackend({ isa: 'avx512', precision: 'bf16' }), /'avx512' runs fp32, not the bf16 asked for/);
    const saved = process.env.KILOSECOND_ISA;
    try {
      process.env.KILOSECOND_ISA = bf16.at(-1)!;
      const lesser = createCpuBackend({ threads: 1, precision: 'bf16' });
      assert.match(lesser.name, new RegExp(`\\(${bf16.at(-1)!} bf16`));
      lesser.dispose();
      const fp32 = createCpuBackend({ threads: 1 });
      assert.equal(fp32.precision, 'fp32', 'a bf16 table named by KILOSECOND_ISA does not change float32 backends');
      fp32.dispose();
    } finally {
      if (saved === undefined) delete process.env.KILOSECOND_ISA;
      else process.env.KILOSECOND_ISA = saved;
    }
  });

  it('refuses an unknown convolution algorithm by name, and kernels after dispose', () => {
    const saved = process.env.KILOSECOND_CONV;
    try {
      process.env.KILOSECOND_CONV = 'fft';
      assert.throws(() => createCpuBackend(), (err) => err instanceof UserError && /KILOSECOND_CONV.*fft/.test(err.message));
    } finally {
      if (saved === undefined) delete process.env.KILOSECOND_CONV;
      else process.env.KILOSECOND_CONV = saved;
    }
    const b = createCpuBackend({ threads: 1, conv: 'direct' });
    const x = b.alloc(4);
    b.dispose();
    assert.throws(() => b.add({ a: x, b: x, out: x }, { length: 4 }), /disposed/);
  });

  it('takes its thread count from the option, then KILOSECOND_THREADS', () => {
    const saved = process.env.KILOSECOND_THREADS;
    try {
      process.env.KILOSECOND_THREADS = '3';
      const fromEnv = createCpuBackend();
      assert.match(fromEnv.name, /3 threads/);
      fromEnv.dispose();
      const fromOption = createCpuBackend({ threads: 1 });
      assert.match(fromOption.name, /1 threads/);
      fromOption.dispose();
      process.env.KILOSECOND_THREADS = 'many';
      assert.throws(() => createCpuBackend(), (err) => err instanceof UserError && /KILOSECOND_THREADS/.test(err.message));
    } finally {
      if (saved === undefined) delete process.env.KILOSECOND_THREADS;
      else process.env.KILOSECOND_THREADS = saved;
    }
  });

  it('gives the same convolution on 1 and 3 threads', async () => {
    const s = { n: 3, h: 7, w: 6, cin: 10, cout: 20 };
    const run = async (threads: number): Promise<Float32Array[]> => {
      const b = createCpuBackend({ threads });
      const x = b.alloc(s.n * s.h * s.w * s.cin);
      const w = b.alloc(9 * s.cin * s.cout);
      const y = b.alloc(s.n * s.h * s.w * s.cout);
      const gw = b.alloc(9 * s.cin * s.cout);
      b.write(x, Float32Array.from({ length: x.length }, (_, i) => Math.sin(i)));
      b.write(w, Float32Array.from({ length: w.length }, (_, i) => Math.cos(i)));
      b.conv3x3({ x, w, y }, s);
      b.conv3x3BackwardFilter({ x, gy: y, gw }, s);
      const out = [await b.read(y), await b.read(gw)];
      b.dispose();
      return out;
    };
    const [one, three] = [await run(1), await run(3)];
    assert.deepEqual(one[0], three[0], 'forward is computed identically whatever the split');
    for (let i = 0; i < one[1].length; i++) assert.ok(Math.abs(one[1][i] - three[1][i]) <= 1e-4 * (1 + Math.abs(one[1][i])));
  });
});

describe('cpu backend build', () => {
  it('keeps every ISA library self-contained (no shared weak symbols that could leak AVX-512 code)', (t) => {
    // A weak symbol (an out-of-line inline function or template) defined in two ISA libraries
    // is kept once by the linker, possibly from the AVX-512 one, and would then crash the
    // scalar path on an older CPU with SIGILL. binding.gyp and native/runtime.h explain.
    const release = join(repoRoot, 'build', 'Release');
    const libraries = ['scalar', 'avx2', 'avx512', 'avx512bf16', 'amx'].map((isa) => join(release, `kernels_${isa}.a`)).filter(existsSync);
    let symbols: string;
    try {
      symbols = execFileSync('nm', ['-C', ...libraries], { encoding: 'utf8' });
    } catch {
      return t.skip('nm (binutils) is not installed');
    }
    const weak = symbols.split('\n').filter((line) => / [WVuv] /.test(line));
    assert.deepEqual(weak, []);
    const exported = symbols.split('\n').filter((line) => / T /.test(line)).map((line) => line.split(' T ')[1]);
    assert.deepEqual(exported.sort(), libraries.map((l) => `ks::kernels_${l.split('kernels_')[1].replace('.a', '')}()`).sort());
  });
});
