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
import { Tensor, expectShape } from '../core/tensor.js';
import { Sfc32 } from '../core/random.js';

export interface ResNet9Config {
  inChannels: number;
  classes: number;
  width: number;
}

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

export interface ForwardOptions {
  training: boolean;
  /** Momentum of the batch-norm running statistics in training mode (PyTorch's default 0.1). */
  bnMomentum?: number;
}

/** conv3x3 -> BN -> ReLU, its conv weight kept HWIO on the device. */
class ConvBN {
  readonly weight: Tensor;
  readonly bn: BatchNormState;

  constructor(backend: Backend, readonly name: string, cin: number, cout: number, rng: Sfc32) {
    // PyTorch's default conv init, kaiming_uniform(a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    this.weight = Tensor.fromArray(backend, [3, 3, cin, cout], uniform(9 * cin * cout, 1 / Math.sqrt(9 * cin), rng));
    this.bn = {
      weight: Tensor.fromArray(backend, [cout], new Float32Array(cout).fill(1)),
      bias: Tensor.fromArray(backend, [cout], new Float32Array(cout)),
      runningMean: Tensor.fromArray(backend, [cout], new Float32Array(cout)),
      runningVar: Tensor.fromArray(backend, [cout], new Float32Array(cout).fill(1)),
      batchesTracked: 0,
    };
  }

  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    return batchNorm(g, conv3x3(g, x, this.weight), this.bn, { training: o.training, relu: true, momentum: o.bnMomentum });
  }

  tensors(): Tensor[] {
    return [this.weight, this.bn.weight, this.bn.bias, this.bn.runningMean, this.bn.runningVar];
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
    const y = this.conv.forward(g, x, o);
    const pooled = this.pool ? maxPool2x2(g, y) : y;
    if (!this.residual) return pooled;
    const [res1, res2] = this.residual;
    return add(g, pooled, res2.forward(g, res1.forward(g, pooled, o), o));
  }

  blocks(): ConvBN[] {
    return [this.conv, ...(this.residual ?? [])];
  }
}

export class ResNet9 {
  /** One per row of `resnet9Stages`, in order. */
  readonly stages: Stage[];
  /** Linear weight [classes, 8w], PyTorch layout. */
  readonly classifier: Tensor;
  readonly logitScale = 0.125;

  constructor(readonly backend: Backend, readonly config: ResNet9Config, seed = 0) {
    const { inChannels, classes, width } = config;
    const rng = new Sfc32(0x5eed, seed, 0x9e3779b9, 0x85ebca6b);
    // Built in PyTorch's order, so that the random initial weights are drawn in its order too.
    this.stages = [];
    let cin = inChannels;
    for (const spec of resnet9Stages) {
      this.stages.push(new Stage(backend, spec, cin, spec.widthFactor * width, rng));
      cin = spec.widthFactor * width;
    }
    this.classifier = Tensor.fromArray(backend, [classes, cin], uniform(classes * cin, 1 / Math.sqrt(cin), rng));
  }

  /** The output of the last stage (layer3, after its residual add): Grad-CAM's target layer. */
  features(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    expectShape('ResNet9 input', x, [undefined, undefined, undefined, this.config.inChannels]);
    return this.stages.reduce((h, stage) => stage.forward(g, h, o), x);
  }

  head(g: Graph, features: Tensor): Tensor {
    return scale(g, linear(g, globalMaxPool(g, features), this.classifier), this.logitScale);
  }

  /** x [n, h, w, inChannels], normalised -> logits [n, classes]. */
  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    return this.head(g, this.features(g, x, o));
  }

  /** Every ConvBN block, in PyTorch's state-dict order. */
  blocks(): ConvBN[] {
    return this.stages.flatMap((stage) => stage.blocks());
  }

  /** Trainable tensors, in PyTorch's `model.parameters()` order. */
  parameters(): Tensor[] {
    return [...this.blocks().flatMap((b) => [b.weight, b.bn.weight, b.bn.bias]), this.classifier];
  }

  dispose(): void {
    for (const b of this.blocks()) for (const t of b.tensors()) t.dispose();
    this.classifier.dispose();
  }
}

export type { ConvBN };

function uniform(count: number, bound: number, rng: Sfc32): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * rng.nextFloat() - 1) * bound;
  return out;
}
