/**
 * @file The state dict: ResNet-9's tensors under PyTorch's names and layouts, so that
 * `model.load_state_dict(file, strict=True)` works in PyTorch and PyTorch's files load here.
 * The one place where conv weights change layout (OIHW in files, HWIO on the device).
 */
import { UserError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { ResNet9 } from './resnet9.js';
import type { SafeTensor } from './safetensors.js';

/** oihw [cout, cin, 3, 3] -> hwio [3, 3, cin, cout]. */
export function oihwToHwio(oihw: Float32Array, cout: number, cin: number): Float32Array {
  const hwio = new Float32Array(oihw.length);
  for (let co = 0; co < cout; co++)
    for (let ci = 0; ci < cin; ci++)
      for (let tap = 0; tap < 9; tap++) hwio[(tap * cin + ci) * cout + co] = oihw[(co * cin + ci) * 9 + tap];
  return hwio;
}

/** hwio [3, 3, cin, cout] -> oihw [cout, cin, 3, 3]. */
export function hwioToOihw(hwio: Float32Array, cin: number, cout: number): Float32Array {
  const oihw = new Float32Array(hwio.length);
  for (let co = 0; co < cout; co++)
    for (let ci = 0; ci < cin; ci++)
      for (let tap = 0; tap < 9; tap++) oihw[(co * cin + ci) * 9 + tap] = hwio[(tap * cin + ci) * cout + co];
  return oihw;
}

/** One entry of the state dict: how to read it from and write it to the model. */
interface Entry {
  shape: number[];
  dtype: 'F32' | 'I64';
  get(): Promise<Float32Array | BigInt64Array>;
  set(data: Float32Array | BigInt64Array): void;
}

function tensorEntry(t: Tensor): Entry {
  return {
    shape: [...t.shape],
    dtype: 'F32',
    get: () => t.read(),
    set: (d) => t.write(d as Float32Array),
  };
}

/** The model's state dict entries in PyTorch's order. */
function entries(model: ResNet9): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const block of model.blocks()) {
    const [, , cin, cout] = block.weight.shape;
    out.set(`${block.name}.conv.weight`, {
      shape: [cout, cin, 3, 3],
      dtype: 'F32',
      get: async () => hwioToOihw(await block.weight.read(), cin, cout),
      set: (d) => block.weight.write(oihwToHwio(d as Float32Array, cout, cin)),
    });
    const bn = block.bn;
    out.set(`${block.name}.bn.weight`, tensorEntry(bn.weight));
    out.set(`${block.name}.bn.bias`, tensorEntry(bn.bias));
    out.set(`${block.name}.bn.running_mean`, tensorEntry(bn.runningMean));
    out.set(`${block.name}.bn.running_var`, tensorEntry(bn.runningVar));
    out.set(`${block.name}.bn.num_batches_tracked`, {
      shape: [],
      dtype: 'I64',
      get: async () => BigInt64Array.of(BigInt(bn.batchesTracked)),
      set: (d) => (bn.batchesTracked = Number((d as BigInt64Array)[0])),
    });
  }
  out.set('classifier.weight', tensorEntry(model.classifier));
  return out;
}

/** Read the whole state (parameters and BN running statistics) back to the host. */
export async function stateDict(model: ResNet9): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const [name, e] of entries(model)) out.set(name, { dtype: e.dtype, shape: e.shape, data: await e.get() });
  return out;
}

/**
 * Load a state dict strictly, like PyTorch's `strict=True`: every name present, no extra ones,
 * every shape and dtype as the model has it. `source` names the file in error messages;
 * `prefix` selects names such as `init.` inside a fixture file.
 */
export function loadStateDict(model: ResNet9, tensors: Map<string, SafeTensor>, source: string, prefix = ''): void {
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
    const { inChannels, classes, width } = model.config;
    throw new UserError(
      `${source} does not fit ResNet9(in_channels=${inChannels}, classes=${classes}, width=${width}):\n  ${problems.slice(0, 8).join('\n  ')}` +
        (problems.length > 8 ? `\n  … and ${problems.length - 8} more` : ''),
    );
  }
  for (const [name, e] of expected) e.set(tensors.get(prefix + name)!.data);
}

/** Trainable tensors with their state-dict names, in PyTorch's `named_parameters()` order. */
export function namedParameters(model: ResNet9): Array<[string, Tensor]> {
  return [
    ...model.blocks().flatMap((b): Array<[string, Tensor]> => [
      [`${b.name}.conv.weight`, b.weight],
      [`${b.name}.bn.weight`, b.bn.weight],
      [`${b.name}.bn.bias`, b.bn.bias],
    ]),
    ['classifier.weight', model.classifier],
  ];
}

/** Host values of a tensor shaped like `t` (a gradient, say) in PyTorch's layout. */
export function toTorchLayout(t: Tensor, values: Float32Array): Float32Array {
  if (t.shape.length !== 4) return values;
  const [, , cin, cout] = t.shape;
  return hwioToOihw(values, cin, cout);
}
