/**
 * @file ResNet-9 ("DavidNet", David Page's DAWNBench CIFAR-10 network), layer for layer the
 * PyTorch module in shared/reference/resnet9_reference.py, so checkpoints interchange:
 *
 *   prep    conv3x3(C -> w)   BN ReLU
 *   layer1  conv3x3(w -> 2w)  BN ReLU maxpool2, then x + res2(res1(x))
 *   layer2  conv3x3(2w -> 4w) BN ReLU maxpool2
 *   layer3  conv3x3(4w -> 8w) BN ReLU maxpool2, then x + res2(res1(x))
 *   global max pool -> linear(8w -> classes, no bias) -> logits * 0.125
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

/** A stage: ConvBN, max pool, and optionally x + res2(res1(x)). */
class Layer {
  readonly conv: ConvBN;
  readonly residual: [ConvBN, ConvBN] | undefined;

  constructor(backend: Backend, name: string, cin: number, cout: number, residual: boolean, rng: Sfc32) {
    this.conv = new ConvBN(backend, name, cin, cout, rng);
    this.residual = residual
      ? [new ConvBN(backend, `${name}.res1`, cout, cout, rng), new ConvBN(backend, `${name}.res2`, cout, cout, rng)]
      : undefined;
  }

  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    const pooled = maxPool2x2(g, this.conv.forward(g, x, o));
    if (!this.residual) return pooled;
    const [res1, res2] = this.residual;
    return add(g, pooled, res2.forward(g, res1.forward(g, pooled, o), o));
  }

  blocks(): ConvBN[] {
    return [this.conv, ...(this.residual ?? [])];
  }
}

export class ResNet9 {
  readonly prep: ConvBN;
  readonly layer1: Layer;
  readonly layer2: Layer;
  readonly layer3: Layer;
  /** Linear weight [classes, 8w], PyTorch layout. */
  readonly classifier: Tensor;
  readonly logitScale = 0.125;

  constructor(readonly backend: Backend, readonly config: ResNet9Config, seed = 0) {
    const { inChannels: c, classes, width: w } = config;
    const rng = new Sfc32(0x5eed, seed, 0x9e3779b9, 0x85ebca6b);
    this.prep = new ConvBN(backend, 'prep', c, w, rng);
    this.layer1 = new Layer(backend, 'layer1', w, 2 * w, true, rng);
    this.layer2 = new Layer(backend, 'layer2', 2 * w, 4 * w, false, rng);
    this.layer3 = new Layer(backend, 'layer3', 4 * w, 8 * w, true, rng);
    this.classifier = Tensor.fromArray(backend, [classes, 8 * w], uniform(classes * 8 * w, 1 / Math.sqrt(8 * w), rng));
  }

  /** The output of layer3 (after its residual add): Grad-CAM's target layer. */
  features(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    expectShape('ResNet9 input', x, [undefined, undefined, undefined, this.config.inChannels]);
    const h = this.prep.forward(g, x, o);
    return this.layer3.forward(g, this.layer2.forward(g, this.layer1.forward(g, h, o), o), o);
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
    return [this.prep, ...this.layer1.blocks(), ...this.layer2.blocks(), ...this.layer3.blocks()];
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
