/**
 * @file A trained network as a standard ONNX model, for ONNX Runtime, TensorRT, OpenVINO, a
 * browser (onnxruntime-web) or a phone, with no kilosecond needed to run it.
 *
 *   images [batch, C, H, W] float32, pixel / 255
 *   Sub mean, Div std                       the checkpoint's normalisation, per channel
 *   ResNet-9, per stage (resnet9Stages)     Conv(+bias) Relu, batch norm folded into each conv
 *                                           (eval mode); MaxPool and the residual Add where the
 *                                           stage has them
 *   or the airbench network                 the 2x2 whitening Conv(+bias) GELU, then per group
 *                                           Conv MaxPool GELU Conv GELU, each batch norm folded
 *                                           into the conv before it (through the pool: see
 *                                           foldedConv)
 *   GlobalMaxPool Flatten Gemm(alpha)       -> logits [batch, classes] (alpha: the logit scale)
 *
 * GELU is spelled out as 0.5 x (1 + Erf(x / sqrt 2)), PyTorch's exact one: opset 17 has no Gelu.
 *
 * The normalisation stays as explicit Sub/Div nodes instead of being folded into the first conv:
 * the conv zero-pads its input, and a zero in normalised space is -mean/std in pixel space, so a
 * folded conv would see different borders.
 *
 * Bytes only, no files (onnx.ts exports a checkpoint file to a file), so a browser page downloads
 * the same model `kilosecond export` writes.
 */
import { defaultBatchNormEps } from '../core/ops/batchnorm.js';
import type { BatchNormState } from '../core/ops/batchnorm.js';
import type { Tensor } from '../core/tensor.js';
import { type AirbenchNet, bnEps as airbenchBnEps, logitScale as airbenchLogitScale } from '../nn/airbench.js';
import type { Network } from '../nn/network.js';
import { type ConvBN, ResNet9 } from '../nn/resnet9.js';
import { hwioToOihw } from '../nn/state-dict.js';
import type { CheckpointMeta } from '../train/checkpoint-format.js';
import {
  AttributeType, encodeModel, FLOAT, type AttributeProto, type Dimension, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './onnx-schema.js';

/**
 * Opset 17 with IR version 8: the newest pair that Debian's python3-onnx (1.12) knows, so its
 * `onnx.checker` accepts the file; newer runtimes load older opsets, never the other way round.
 */
export const OPSET = 17;
const IR_VERSION = 8;

/**
 * The ONNX file of `network`, whose checkpoint metadata is `meta`. The model takes `images`,
 * float32 NCHW with values in 0..1 (pixel / 255) and any batch size, applies the checkpoint's
 * normalisation itself, and returns `logits`, float32 [batch, classes]: the eval-mode logits
 * kilosecond computes. Its `metadata_props` hold `classes` (a JSON array), `dataset`, `mean`,
 * `std`, `input_size` ([H, W]), `resize` (image-folder models) and `producer`; its producer
 * version is `producerVersion`.
 */
export async function encodeOnnx(network: Network, meta: CheckpointMeta, producerVersion: string): Promise<Uint8Array> {
  return encodeModel(await onnxModel(network, meta, producerVersion));
}

/** The ModelProto of `model`, walked layer by layer as its features and head are. */
async function onnxModel(network: Network, meta: CheckpointMeta, producerVersion: string): Promise<ModelProto> {
  const g = new GraphBuilder();
  const c = meta.inChannels;
  const [h, w] = meta.inputSize;
  const classes = meta.classes.length;

  const perChannel = (name: string, values: number[]) => g.constant(name, [1, c, 1, 1], Float32Array.from(values));
  let x = g.node('Sub', 'normalise.sub', ['images', perChannel('normalise.mean', meta.mean)]);
  x = g.node('Div', 'normalise.div', [x, perChannel('normalise.std', meta.std)]);
  const { features, classifier, logitScale, title } = network instanceof ResNet9
    ? { features: await resnet9Features(g, network, x), classifier: network.classifier, logitScale: network.logitScale, title: 'ResNet-9' }
    : { features: await airbenchFeatures(g, network as AirbenchNet, x), classifier: (network as AirbenchNet).classifier, logitScale: airbenchLogitScale, title: 'the airbench network' };
  x = g.node('GlobalMaxPool', 'head.pool', [features]);
  x = g.node('Flatten', 'head.flatten', [x], [{ name: 'axis', type: AttributeType.INT, i: 1 }]);
  // Gemm with transB takes the classifier weight in PyTorch's [classes, features] layout, as
  // PyTorch's own export of nn.Linear does; alpha is the network's logit scale.
  const weight = g.constant('classifier.weight', [...classifier.shape], await classifier.read());
  g.node('Gemm', 'head.classifier', [x, weight], [{ name: 'alpha', type: AttributeType.FLOAT, f: logitScale }, { name: 'transB', type: AttributeType.INT, i: 1 }], 'logits');

  const input: ValueInfoProto = {
    ...tensorInfo('images', [{ dim_param: 'batch' }, { dim_value: c }, { dim_value: h }, { dim_value: w }]),
    doc_string: `float32 NCHW, pixel / 255 (0..1); the model normalises with mean ${JSON.stringify(meta.mean)} and std ${JSON.stringify(meta.std)}`,
  };
  const output: ValueInfoProto = {
    ...tensorInfo('logits', [{ dim_param: 'batch' }, { dim_value: classes }]),
    doc_string: `float32 [batch, ${classes}] logits, in the order of metadata_props 'classes'`,
  };
  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'kilosecond',
    producer_version: producerVersion,
    doc_string: `${title} trained on ${meta.dataset} by kilosecond; batch norm folded into the convolutions (eval mode)`,
    graph: { name: network.config.architecture, node: g.nodes, initializer: g.initializers, input: [input], output: [output] },
    metadata_props: Object.entries({
      producer: 'kilosecond',
      dataset: meta.dataset,
      classes: JSON.stringify(meta.classes),
      mean: JSON.stringify(meta.mean),
      std: JSON.stringify(meta.std),
      input_size: JSON.stringify(meta.inputSize),
      ...(meta.resize ? { resize: meta.resize } : {}),
    }).map(([key, value]) => ({ key, value })),
  };
}

/** ResNet-9's stages (ResNet9.features). */
async function resnet9Features(g: GraphBuilder, model: ResNet9, input: string): Promise<string> {
  let x = input;
  for (const stage of model.stages) {
    x = await convBnRelu(g, stage.conv, x);
    if (stage.pool) x = g.node('MaxPool', `${stage.conv.name}.pool`, [x], maxPool2x2());
    if (stage.residual) {
      const [res1, res2] = stage.residual;
      x = g.node('Add', `${stage.conv.name}.add`, [x, await convBnRelu(g, res2, await convBnRelu(g, res1, x))]);
    }
  }
  return x;
}

/** conv3x3 (pad 1, no bias) -> eval-mode batch norm -> ReLU, as Conv(+bias) -> Relu. */
async function convBnRelu(g: GraphBuilder, block: ConvBN, x: string): Promise<string> {
  const norm = foldScales(await readBatchNorm(block.bn), defaultBatchNormEps);
  return g.node('Relu', `${block.name}.relu`, [await foldedConv(g, `${block.name}.conv`, block.weight, norm, x)]);
}

/** The airbench network's whitening layer and groups (AirbenchNet.features). */
async function airbenchFeatures(g: GraphBuilder, model: AirbenchNet, input: string): Promise<string> {
  const [k, , cin, cout] = model.whitenWeight.shape;
  const whiten = g.node('Conv', 'whiten.conv', [
    input,
    g.constant('whiten.weight', [cout!, cin!, k!, k!], hwioToOihw(await model.whitenWeight.read(), cin!, cout!, k!)),
    g.constant('whiten.bias', [cout!], await model.whitenBias.read()),
  ], [ints('kernel_shape', [k!, k!])]);
  let x = geluNodes(g, 'whiten', whiten);
  for (const group of model.groups) {
    // conv1 -> pool -> norm1: the norm is folded into conv1 when every channel's scale is
    // positive, since max(s y + b) = s max(y) + b for s > 0; otherwise it stays after the pool.
    const norm1 = foldScales(await readBatchNorm(group.norm1), airbenchBnEps);
    const foldable = norm1.scale.every((s) => s > 0);
    x = g.node('MaxPool', `${group.name}.pool`, [await foldedConv(g, `${group.name}.conv1`, group.conv1, foldable ? norm1 : undefined, x)], maxPool2x2());
    if (!foldable) {
      const channels = norm1.scale.length;
      x = g.node('Mul', `${group.name}.norm1.mul`, [x, g.constant(`${group.name}.norm1.scale`, [1, channels, 1, 1], norm1.scale)]);
      x = g.node('Add', `${group.name}.norm1.add`, [x, g.constant(`${group.name}.norm1.shift`, [1, channels, 1, 1], norm1.shift)]);
    }
    x = geluNodes(g, `${group.name}.act1`, x);
    const norm2 = foldScales(await readBatchNorm(group.norm2), airbenchBnEps);
    x = geluNodes(g, `${group.name}.act2`, await foldedConv(g, `${group.name}.conv2`, group.conv2, norm2, x));
  }
  return x;
}

/** MaxPool's attributes for a 2x2 window of stride 2. */
const maxPool2x2 = (): AttributeProto[] => [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])];

/** Eval-mode batch norm as y = scale x + shift per channel: scale = gamma / sqrt(var + eps), shift = beta - mean scale (in double, rounded once). */
function foldScales(bn: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array }, eps: number): FoldedNorm {
  const scale = Array.from(bn.gamma, (gm, c) => gm / Math.sqrt(bn.variance[c]! + eps));
  return { scale: Float32Array.from(scale), shift: bn.beta.map((b, c) => b - bn.mean[c]! * scale[c]!) };
}

/** An eval-mode batch norm as a per-channel affine map. */
interface FoldedNorm { scale: Float32Array; shift: Float32Array }

async function readBatchNorm(bn: BatchNormState): Promise<{ gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array }> {
  const [gamma, beta, mean, variance] = await Promise.all([bn.weight, bn.bias, bn.runningMean, bn.runningVar].map((t) => t.read()));
  return { gamma: gamma!, beta: beta!, mean: mean!, variance: variance! };
}

/**
 * conv3x3 (pad 1, no bias) with an eval-mode batch norm after it folded in, as Conv(+bias):
 * gamma (conv(x) - mean) / sqrt(var + eps) + beta = conv_{w s}(x) + (beta - mean s) with
 * s = gamma / sqrt(var + eps) per output channel (foldScales). Without a norm, the plain Conv.
 */
async function foldedConv(g: GraphBuilder, name: string, weightHwio: Tensor, norm: FoldedNorm | undefined, x: string): Promise<string> {
  const [, , cin, cout] = weightHwio.shape as [number, number, number, number];
  const weight = hwioToOihw(await weightHwio.read(), cin, cout);
  const inputs = [x, `${name}.weight`];
  if (norm) {
    const { scale, shift } = norm;
    const taps = cin * 9;
    for (let co = 0; co < cout; co++) for (let k = co * taps; k < (co + 1) * taps; k++) weight[k] = weight[k]! * scale[co]!;
    inputs.push(g.constant(`${name}.bias`, [cout], shift));
  }
  g.constant(`${name}.weight`, [cout, cin, 3, 3], weight);
  return g.node('Conv', name, inputs, [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]);
}

/** PyTorch's exact GELU, 0.5 x (1 + erf(x / sqrt 2)), in opset-17 nodes. */
function geluNodes(g: GraphBuilder, name: string, x: string): string {
  const erf = g.node('Erf', `${name}.erf`, [g.node('Div', `${name}.div`, [x, g.scalar(`${name}.sqrt2`, Math.SQRT2)])]);
  const onePlus = g.node('Add', `${name}.add`, [erf, g.scalar(`${name}.one`, 1)]);
  return g.node('Mul', `${name}.half`, [g.node('Mul', `${name}.mul`, [x, onePlus]), g.scalar(`${name}.half`, 0.5)], [], `${name}.gelu`);
}

/** Nodes in topological order (each added after its inputs) and the constant tensors they read. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];

  /** Adds a node; its one output is named after the node unless `output` names it. */
  node(opType: string, name: string, input: string[], attribute: AttributeProto[] = [], output = name): string {
    this.nodes.push({ name, op_type: opType, input, output: [output], attribute });
    return output;
  }

  constant(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: littleEndian(values) });
    return name;
  }

  /** A float32 scalar constant (broadcast by the elementwise nodes). */
  scalar(name: string, value: number): string {
    return this.constant(name, [], Float32Array.of(value));
  }
}

function ints(name: string, values: number[]): AttributeProto {
  return { name, type: AttributeType.INTS, ints: values };
}

function tensorInfo(name: string, dim: Dimension[]): ValueInfoProto {
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim } } } };
}

/** raw_data must be little-endian whatever the machine's byte order. */
function littleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  return bytes;
}
