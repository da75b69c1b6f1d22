/**
 * @file ResNet-9 ("DavidNet", David Page's DAWNBench CIFAR-10 network), layer for layer the
 * PyTorch module in shared/reference/resnet9_reference.py, so checkpoints interchange. Its
 * stages are the table `resnet9Stages` below (widths w, 2w, 4w, 8w), then a global max pool and
 * a linear classifier (no bias) whose logits are scaled by 0.125.
 *
 * The global max pool lets any input size >= 8x8 through: 28x28 images go 28 -> 14 -> 7 -> 3.
 */
import type { Backend } from '../core/backend.js';
import type { Graph } from '../core/graph.js';
import { type BatchNormState, batchNorm } from '../core/ops/batchnorm.js';
import { conv3x3 } from '../core/ops/conv.js';
import { add, linear, scale } from '../core/ops/dense.js';
import { globalMaxPool, maxPool2x2 } from '../core/ops/pool.js';
import { type Tensor, expectShape } from '../core/tensor.js';
import { Sfc32 } from '../core/random.js';
import { batchNormLayer, convWeight, linearWeight } from './init.js';
import { type ForwardOptions, type Network, type NetworkConfig, type StateItem, batchNormState, tensorsOf } from './network.js';

export type ResNet9Config = Omit<NetworkConfig, 'architecture'>;

/**
 * The network's stages in order: conv3x3 -> BN -> ReLU to `widthFactor` * width channels, then a
 * 2x2 max pool where `pool`, then x + res2(res1(x)) where `residual`. The one description of the
 * architecture: the model, its state-dict names, the ONNX export and the benchmarks' layer lists
 * (src/bench/layers.ts, which the PyTorch convolution peer reads too) all come from it.
 */
export const resnet9Stages = [
  { name: 'prep', widthFactor: 1, pool: false, residual: false },
  { name: 'layer1', widthFactor: 2, pool: true, residual: true },
  { name: 'layer2', widthFactor: 4, pool: true, residual: false },
  { name: 'layer3', widthFactor: 8, pool: true, residual: true },
] as const;

type StageSpec = (typeof resnet9Stages)[number];

/** conv3x3 -> BN -> ReLU, its conv weight kept HWIO on the device. */
class ConvBN {
  readonly weight: Tensor;
  readonly bn: BatchNormState;

  constructor(backend: Backend, readonly name: string, cin: number, cout: number, rng: Sfc32) {
    this.weight = convWeight(backend, 3, cin, cout, rng);
    this.bn = batchNormLayer(backend, cout);
  }

  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    return g.chain(x, (t) => conv3x3(g, t, this.weight), (t) => batchNorm(g, t, this.bn, { training: o.training, relu: true, momentum: o.bnMomentum }));
  }

  state(): StateItem[] {
    return [{ name: `${this.name}.conv.weight`, kind: 'conv', tensor: this.weight }, ...batchNormState(`${this.name}.bn`, this.bn)];
  }
}

/** One row of `resnet9Stages`: a ConvBN, then the max pool and the residual pair it asks for. */
class Stage {
  readonly conv: ConvBN;
  readonly pool: boolean;
  readonly residual: [ConvBN, ConvBN] | undefined;

  constructor(backend: Backend, spec: StageSpec, cin: number, cout: number, rng: Sfc32) {
    this.conv = new ConvBN(backend, spec.name, cin, cout, rng);
    this.pool = spec.pool;
    this.residual = spec.residual
      ? [new ConvBN(backend, `${spec.name}.res1`, cout, cout, rng), new ConvBN(backend, `${spec.name}.res2`, cout, cout, rng)]
      : undefined;
  }

  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    const pooled = g.chain(x, (t) => this.conv.forward(g, t, o), ...(this.pool ? [(t: Tensor) => maxPool2x2(g, t)] : []));
    if (!this.residual) return pooled;
    const [res1, res2] = this.residual;
    const branch = g.chain(pooled, (t) => res1.forward(g, t, o), (t) => res2.forward(g, t, o));
    const sum = add(g, pooled, branch);
    // `pooled` is the residual's input too, so it is released only after the add.
    g.release(pooled);
    g.release(branch);
    return sum;
  }

  blocks(): ConvBN[] {
    return [this.conv, ...(this.residual ?? [])];
  }
}

export class ResNet9 implements Network {
  readonly config: NetworkConfig;
  /** One per row of `resnet9Stages`, in order. */
  readonly stages: Stage[];
  /** Linear weight [classes, 8w], PyTorch layout. */
  readonly classifier: Tensor;
  readonly logitScale = 0.125;

  readonly topLayers = ['layer3.', 'classifier.'] as const;

  constructor(readonly backend: Backend, config: ResNet9Config, seed = 0) {
    const { inChannels, classes, width } = config;
    this.config = { architecture: 'resnet9', inChannels, classes, width };
    const rng = new Sfc32(0x5eed, seed, 0x9e3779b9, 0x85ebca6b);
    // Built in PyTorch's order, so that the random initial weights are drawn in its order too.
    this.stages = [];
    let cin = inChannels;
    for (const spec of resnet9Stages) {
      this.stages.push(new Stage(backend, spec, cin, spec.widthFactor * width, rng));
      cin = spec.widthFactor * width;
    }
    this.classifier = linearWeight(backend, cin, classes, rng);
  }

  /** The output of the last stage (layer3, after its residual add): Grad-CAM's target layer. */
  features(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    expectShape('ResNet9 input', x, [undefined, undefined, undefined, this.config.inChannels]);
    return g.chain(x, ...this.stages.map((stage) => (t: Tensor) => stage.forward(g, t, o)));
  }

  head(g: Graph, features: Tensor): Tensor {
    return g.chain(features, (t) => globalMaxPool(g, t), (t) => linear(g, t, this.classifier), (t) => scale(g, t, this.logitScale));
  }

  /** x [n, h, w, inChannels], normalised -> logits [n, classes]. */
  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    return g.chain(x, (t) => this.features(g, t, o), (t) => this.head(g, t));
  }

  /** Every ConvBN block, in PyTorch's state-dict order. */
  blocks(): ConvBN[] {
    return this.stages.flatMap((stage) => stage.blocks());
  }

  namedParameters(): Array<[string, Tensor]> {
    return [
      ...this.blocks().flatMap((b): Array<[string, Tensor]> => [
        [`${b.name}.conv.weight`, b.weight],
        [`${b.name}.bn.weight`, b.bn.weight],
        [`${b.name}.bn.bias`, b.bn.bias],
      ]),
      ['classifier.weight', this.classifier],
    ];
  }

  state(): StateItem[] {
    return [...this.blocks().flatMap((b) => b.state()), { name: 'classifier.weight', kind: 'plain', tensor: this.classifier }];
  }

  describe(): string {
    const { inChannels, classes, width } = this.config;
    return `ResNet9(in_channels=${inChannels}, classes=${classes}, width=${width})`;
  }

  dispose(): void {
    for (const t of tensorsOf(this)) t.dispose();
  }
}

export type { ConvBN };
