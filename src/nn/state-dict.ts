/**
 * @file The state dict: a network's tensors under PyTorch's names and layouts, so that
 * `model.load_state_dict(file, strict=True)` works in PyTorch and PyTorch's files load here.
 * The one place where conv weights change layout (OIHW in files, HWIO on the device).
 */
import { UserError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Network, StateItem } from './network.js';
import type { SafeTensor } from './safetensors.js';

/** oihw [cout, cin, k, k] -> hwio [k, k, cin, cout]. */
export function oihwToHwio(oihw: Float32Array, cout: number, cin: number, k = 3): Float32Array {
  const hwio = new Float32Array(oihw.length);
  const taps = k * k;
  for (let co = 0; co < cout; co++)
    for (let ci = 0; ci < cin; ci++)
      for (let tap = 0; tap < taps; tap++) hwio[(tap * cin + ci) * cout + co] = oihw[(co * cin + ci) * taps + tap];
  return hwio;
}

/** hwio [k, k, cin, cout] -> oihw [cout, cin, k, k]. */
export function hwioToOihw(hwio: Float32Array, cin: number, cout: number, k = 3): Float32Array {
  const oihw = new Float32Array(hwio.length);
  const taps = k * k;
  for (let co = 0; co < cout; co++)
    for (let ci = 0; ci < cin; ci++)
      for (let tap = 0; tap < taps; tap++) oihw[(co * cin + ci) * taps + tap] = hwio[(tap * cin + ci) * cout + co];
  return oihw;
}

/** One entry of the state dict: how to read it from and write it to the model. */
interface Entry {
  shape: number[];
  dtype: 'F32' | 'I64';
  get(): Promise<Float32Array | BigInt64Array>;
  set(data: Float32Array | BigInt64Array): void;
}

function entryOf(item: StateItem): Entry {
  if (item.kind === 'counter') {
    const bn = item.bn;
    return {
      shape: [],
      dtype: 'I64',
      get: async () => BigInt64Array.of(BigInt(bn.batchesTracked)),
      set: (d) => (bn.batchesTracked = Number((d as BigInt64Array)[0])),
    };
  }
  const t = item.tensor;
  if (item.kind === 'plain') return { shape: [...t.shape], dtype: 'F32', get: () => t.read(), set: (d) => t.write(d as Float32Array) };
  const [k, , cin, cout] = t.shape;
  return {
    shape: [cout, cin, k, k],
    dtype: 'F32',
    get: async () => hwioToOihw(await t.read(), cin, cout, k),
    set: (d) => t.write(oihwToHwio(d as Float32Array, cout, cin, k)),
  };
}

/** The model's state dict entries in PyTorch's order. */
function entries(model: Network): Map<string, Entry> {
  return new Map(model.state().map((item) => [item.name, entryOf(item)]));
}

/** Read the whole state (parameters and BN running statistics) back to the host. */
export async function stateDict(model: Network): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const [name, e] of entries(model)) out.set(name, { dtype: e.dtype, shape: e.shape, data: await e.get() });
  return out;
}

/**
 * Load a state dict strictly, like PyTorch's `strict=True`: every name present, no extra ones,
 * every shape and dtype as the model has it. `source` names the file in error messages;
 * `prefix` selects names such as `init.` inside a fixture file.
 */
export function loadStateDict(model: Network, tensors: Map<string, SafeTensor>, source: string, prefix = ''): void {
  const expected = entries(model);
  const problems: string[] = [];
  for (const [name, e] of expected) {
    const t = tensors.get(prefix + name);
    if (!t) problems.push(`missing tensor '${prefix + name}' [${e.shape}]`);
    else if (t.dtype !== e.dtype) problems.push(`tensor '${prefix + name}' is ${t.dtype}, expected ${e.dtype}`);
    else if (t.shape.join() !== e.shape.join()) problems.push(`tensor '${prefix + name}' has shape [${t.shape}], expected [${e.shape}]`);
  }
  if (prefix === '') {
    for (const name of tensors.keys()) if (!expected.has(name)) problems.push(`unexpected tensor '${name}'`);
  }
  if (problems.length > 0) {
    throw new UserError(
      `${source} does not fit ${model.describe()}:\n  ${problems.slice(0, 8).join('\n  ')}` +
        (problems.length > 8 ? `\n  … and ${problems.length - 8} more` : ''),
    );
  }
  for (const [name, e] of expected) e.set(tensors.get(prefix + name)!.data);
}

/** Host values of a tensor shaped like `t` (a gradient, say) in PyTorch's layout. */
export function toTorchLayout(t: Tensor, values: Float32Array): Float32Array {
  if (t.shape.length !== 4) return values;
  const [k, , cin, cout] = t.shape;
  return hwioToOihw(values, cin, cout, k);
}
