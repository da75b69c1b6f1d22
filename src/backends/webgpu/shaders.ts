/**
 * @file WGSL sources by file name (shaders/*.wgsl, bundled into a module by
 * scripts/bundle-shaders.mjs, so that no file is read at run time), and the packing of kernel
 * parameters into uniform blocks.
 */
import { shaderSources } from './shaders/sources.generated.js';

export function shaderSource(file: string): string {
  const text = shaderSources[file];
  if (text === undefined) throw new Error(`WebGPU: there is no shaders/${file} (or scripts/bundle-shaders.mjs has not run since it was added)`);
  return text;
}

/**
 * A uniform block laid out as the shaders declare theirs: the u32 fields first, then the f32
 * fields, each 4 bytes, in the order given.
 */
export function uniforms(u32s: readonly number[], f32s: readonly number[] = []): ArrayBuffer {
  const bytes = Math.ceil((u32s.length + f32s.length) / 4) * 16;
  const view = new DataView(new ArrayBuffer(Math.max(16, bytes)));
  u32s.forEach((value, i) => view.setUint32(i * 4, value, true));
  f32s.forEach((value, i) => view.setFloat32((u32s.length + i) * 4, value, true));
  return view.buffer;
}

/** Workgroups for `threads` threads in groups of 256, spread over x and y (65535 caps one axis). */
export function grid1d(threads: number): [number, number, number] {
  const groups = Math.ceil(threads / 256);
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}
