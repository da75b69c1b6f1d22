/**
 * @file A trained checkpoint as a standard ONNX model, for ONNX Runtime, TensorRT, OpenVINO, a
 * browser (onnxruntime-web) or a phone, with no kilosecond needed to run it.
 *
 *   images [batch, C, H, W] float32, pixel / 255
 *   Sub mean, Div std                       the checkpoint's normalisation, per channel
 *   per stage of ResNet-9 (resnet9Stages)   Conv(+bias) Relu, batch norm folded into each conv
 *                                           (eval mode); MaxPool and the residual Add where the
 *                                           stage has them
 *   GlobalMaxPool Flatten Gemm(alpha 0.125)  -> logits [batch, classes]
 *
 * The normalisation stays as explicit Sub/Div nodes instead of being folded into the first conv:
 * the conv zero-pads its input, and a zero in normalised space is -mean/std in pixel space, so a
 * folded conv would see different borders.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { UserError } from '../core/errors.js';
import { createBackend } from '../backends/index.js';
import { defaultBatchNormEps } from '../core/ops/batchnorm.js';
import type { Network } from '../nn/network.js';
import { type ConvBN, ResNet9 } from '../nn/resnet9.js';
import { hwioToOihw } from '../nn/state-dict.js';
import { type CheckpointMeta, loadCheckpoint } from '../train/checkpoint.js';
import { kilosecondVersion } from '../train/environment.js';
import {
  AttributeType, encodeModel, FLOAT, type AttributeProto, type Dimension, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './onnx-schema.js';

/**
 * Opset 17 with IR version 8: the newest pair that Debian's python3-onnx (1.12) knows, so its
 * `onnx.checker` accepts the file; newer runtimes load older opsets, never the other way round.
 */
const OPSET = 17;
const IR_VERSION = 8;


/** What `exportOnnx` wrote. */
export interface OnnxExport {
  path: string;
  bytes: number;
  opset: number;
  /** The input's shape; 'batch' is chosen at run time. */
  inputShape: ['batch', number, number, number];
  classes: string[];
  dataset: string;
}

/**
 * Export a kilosecond ResNet-9 checkpoint (`model.safetensors`) as an ONNX model at `outPath`.
 *
 * The model takes `images`, float32 NCHW with values in 0..1 (pixel / 255) and any batch size,
 * applies the checkpoint's normalisation itself, and returns `logits`, float32 [batch, classes]:
 * the eval-mode logits kilosecond computes. Its `metadata_props` hold `classes` (a JSON array),
 * `dataset`, `mean`, `std`, `input_size` ([H, W]), `resize` (image-folder models) and `producer`.
 *
 * The file is written atomically: a failed export never leaves a partial file at `outPath`.
 *
 * @throws UserError when the checkpoint cannot be read or is not a kilosecond ResNet-9, or when
 *   the folder of `outPath` does not exist.
 */
export async function exportOnnx(checkpointPath: string, outPath: string): Promise<OnnxExport> {
  checkWritable(outPath);
  // The reference backend keeps tensors in host memory: reading them back is a copy, not a transfer.
  const backend = await createBackend('reference');
  try {
    const { model, meta } = loadCheckpoint(checkpointPath, backend);
    try {
      const bytes = encodeModel(await onnxModel(model, meta, checkpointPath));
      await writeFileAtomic(outPath, bytes);
      const [h, w] = meta.inputSize;
      return { path: outPath, bytes: bytes.length, opset: OPSET, inputShape: ['batch', meta.inChannels, h, w], classes: meta.classes, dataset: meta.dataset };
    } finally {
      model.dispose();
    }
  } finally {
    backend.dispose();
  }
}

/** Fails early, before the model is built, with the path the user gave. */
function checkWritable(outPath: string): void {
  const folder = dirname(resolve(outPath));
  const stat = statSync(folder, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new UserError(`cannot write ${outPath}: the folder ${folder} does not exist`);
  if (statSync(outPath, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UserError(`cannot write ${outPath}: it is a folder; give a file name such as ${join(outPath, 'model.onnx')}`);
  }
}

/** The ModelProto of `model`, walked layer by layer as ResNet9.features and head do. */
async function onnxModel(network: Network, meta: CheckpointMeta, path: string): Promise<ModelProto> {
  if (!(network instanceof ResNet9)) {
    throw new UserError(`${path} holds ${network.describe()} (the fast recipe's network): the ONNX export covers ResNet-9 checkpoints (the dawnbench recipe) only so far`);
  }
  const model = network;
  const g = new GraphBuilder();
  const c = meta.inChannels;
  const [h, w] = meta.inputSize;
  const classes = meta.classes.length;

  const perChannel = (name: string, values: number[]) => g.constant(name, [1, c, 1, 1], Float32Array.from(values));
  let x = g.node('Sub', 'normalise.sub', ['images', perChannel('normalise.mean', meta.mean)]);
  x = g.node('Div', 'normalise.div', [x, perChannel('normalise.std', meta.std)]);
  for (const stage of model.stages) {
    x = await convBnRelu(g, stage.conv, x);
    if (stage.pool) x = g.node('MaxPool', `${stage.conv.name}.pool`, [x], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]);
    if (stage.residual) {
      const [res1, res2] = stage.residual;
      x = g.node('Add', `${stage.conv.name}.add`, [x, await convBnRelu(g, res2, await convBnRelu(g, res1, x))]);
    }
  }
  x = g.node('GlobalMaxPool', 'head.pool', [x]);
  x = g.node('Flatten', 'head.flatten', [x], [{ name: 'axis', type: AttributeType.INT, i: 1 }]);
  // Gemm with transB takes the classifier weight in PyTorch's [classes, 8w] layout, as PyTorch's
  // own export of nn.Linear does; alpha is the network's logit scale.
  const classifier = g.constant('classifier.weight', [...model.classifier.shape], await model.classifier.read());
  g.node('Gemm', 'head.classifier', [x, classifier], [{ name: 'alpha', type: AttributeType.FLOAT, f: model.logitScale }, { name: 'transB', type: AttributeType.INT, i: 1 }], 'logits');

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
    producer_version: kilosecondVersion,
    doc_string: `ResNet-9 trained on ${meta.dataset} by kilosecond; batch norm folded into the convolutions (eval mode)`,
    graph: { name: 'resnet9', node: g.nodes, initializer: g.initializers, input: [input], output: [output] },
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

/**
 * conv3x3 (pad 1, no bias) -> eval-mode batch norm -> ReLU as Conv(+bias) -> Relu. Batch norm is
 * y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta = conv_{w * s}(x) + (beta - mean * s)
 * with s = gamma / sqrt(var + eps) per output channel; computed in double, rounded once.
 */
async function convBnRelu(g: GraphBuilder, block: ConvBN, x: string): Promise<string> {
  const [, , cin, cout] = block.weight.shape;
  const weight = hwioToOihw(await block.weight.read(), cin, cout);
  const [gamma, beta, mean, variance] = await Promise.all(
    [block.bn.weight, block.bn.bias, block.bn.runningMean, block.bn.runningVar].map((t) => t.read()),
  );
  const bias = new Float32Array(cout);
  const taps = cin * 9;
  for (let co = 0; co < cout; co++) {
    const s = gamma[co]! / Math.sqrt(variance[co]! + defaultBatchNormEps);
    for (let k = co * taps; k < (co + 1) * taps; k++) weight[k] = weight[k]! * s;
    bias[co] = beta[co]! - mean[co]! * s;
  }
  const conv = g.node('Conv', `${block.name}.conv`, [
    x, g.constant(`${block.name}.conv.weight`, [cout, cin, 3, 3], weight), g.constant(`${block.name}.conv.bias`, [cout], bias),
  ], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]);
  return g.node('Relu', `${block.name}.relu`, [conv]);
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
