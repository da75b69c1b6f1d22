/**
 * @file The fast recipe's network, after airbench94 (Keller Jordan, arXiv 2404.00498), layer for
 * layer the PyTorch module in scripts/airbench_reference.py, so checkpoints interchange:
 *
 *   whiten  2x2 conv, no padding, C -> 8C (frozen to the patch whitening; bias trained) -> GELU
 *   group1  conv3x3 (8C -> w)  maxpool2 BN GELU conv3x3 (w -> w)   BN GELU
 *   group2  conv3x3 (w -> 4w)  maxpool2 BN GELU conv3x3 (4w -> 4w) BN GELU
 *   group3  conv3x3 (4w -> 4w) maxpool2 BN GELU conv3x3 (4w -> 4w) BN GELU
 *   global max pool, classifier linear (4w -> classes, no bias), logits / 9
 *
 * w = 64 is airbench94's 64/256/256. The batch norms have no trained scale (fixed at 1), eps
 * 1e-12 and momentum 0.4 (airbench's "0.6" in its own convention). For 32x32 inputs the last
 * map is 3x3, where airbench's MaxPool2d(3) and the global max pool agree; the global pool also
 * takes 28x28 inputs (27 -> 13 -> 6 -> 3) and any size from 16x16 up (15 -> 7 -> 3 -> 1).
 */
import type { Backend } from '../core/backend.js';
import type { Graph } from '../core/graph.js';
import { gelu } from '../core/ops/activation.js';
import { type BatchNormState, batchNorm } from '../core/ops/batchnorm.js';
import { conv, conv3x3 } from '../core/ops/conv.js';
import { addBias, linear, scale } from '../core/ops/dense.js';
import { globalMaxPool, maxPool2x2 } from '../core/ops/pool.js';
import { Sfc32 } from '../core/random.js';
import { Tensor, expectShape } from '../core/tensor.js';
import { msg, setting, UserError } from '../core/errors.js';
import { batchNormLayer, convWeight, linearWeight, uniform } from './init.js';
import { type ForwardOptions, type Network, type NetworkConfig, type StateItem, batchNormState, tensorsOf } from './network.js';

/** The whitening convolution's kernel side. */
export const whiteningKernel = 2;

/** The smallest input side: 16 -> 15 (whitening) -> 7 -> 3 -> 1 through the three pools. */
export const minInputSide = 16;

/** The batch norms' epsilon (airbench's), and the scale of the logits. */
export const bnEps = 1e-12;
const bnMomentum = 0.4;
export const logitScale = 1 / 9;

/** Output channels of the whitening layer: every principal axis of the 2x2 patches and its negation. */
export function whiteningWidth(inChannels: number): number {
  return 2 * whiteningKernel * whiteningKernel * inChannels;
}

/** The three groups' widths for a first width `w`. */
export function airbenchWidths(width: number): [number, number, number] {
  return [width, 4 * width, 4 * width];
}

/**
 * A 3x3 weight initialised as airbench does: PyTorch's default, then the identity (a Dirac
 * delta at the centre tap) on the first `cin` output channels, so each group starts by passing
 * its input through.
 */
function identityConvWeight(backend: Backend, cin: number, cout: number, rng: Sfc32): Tensor {
  const values = uniform(9 * cin * cout, 1 / Math.sqrt(9 * cin), rng);
  for (let co = 0; co < Math.min(cin, cout); co++) {
    for (let tap = 0; tap < 9; tap++) for (let ci = 0; ci < cin; ci++) values[(tap * cin + ci) * cout + co] = tap === 4 && ci === co ? 1 : 0;
  }
  return Tensor.fromArray(backend, [3, 3, cin, cout], values);
}

class ConvGroup {
  readonly conv1: Tensor;
  readonly norm1: BatchNormState;
  readonly conv2: Tensor;
  readonly norm2: BatchNormState;

  constructor(backend: Backend, readonly name: string, cin: number, cout: number, rng: Sfc32) {
    this.conv1 = identityConvWeight(backend, cin, cout, rng);
    this.norm1 = batchNormLayer(backend, cout);
    this.conv2 = identityConvWeight(backend, cout, cout, rng);
    this.norm2 = batchNormLayer(backend, cout);
  }

  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    const bn = { training: o.training, relu: false, eps: bnEps, momentum: o.bnMomentum ?? bnMomentum };
    return g.chain(x,
      (t) => conv3x3(g, t, this.conv1), (t) => maxPool2x2(g, t), (t) => batchNorm(g, t, this.norm1, bn), (t) => gelu(g, t),
      (t) => conv3x3(g, t, this.conv2), (t) => batchNorm(g, t, this.norm2, bn), (t) => gelu(g, t));
  }

  namedParameters(): Array<[string, Tensor]> {
    return [
      [`${this.name}.conv1.weight`, this.conv1],
      [`${this.name}.norm1.bias`, this.norm1.bias],
      [`${this.name}.conv2.weight`, this.conv2],
      [`${this.name}.norm2.bias`, this.norm2.bias],
    ];
  }

  state(): StateItem[] {
    return [
      { name: `${this.name}.conv1.weight`, kind: 'conv', tensor: this.conv1 },
      ...batchNormState(`${this.name}.norm1`, this.norm1),
      { name: `${this.name}.conv2.weight`, kind: 'conv', tensor: this.conv2 },
      ...batchNormState(`${this.name}.norm2`, this.norm2),
    ];
  }
}

export class AirbenchNet implements Network {
  readonly config: NetworkConfig;
  /** HWIO [2, 2, C, 8C]: frozen; `setWhitening` fills it from the training images. */
  readonly whitenWeight: Tensor;
  /** The whitening layer's bias, the only part of it that trains (for the first epochs). */
  readonly whitenBias: Tensor;
  readonly groups: [ConvGroup, ConvGroup, ConvGroup];
  /** Linear weight [classes, 4w], PyTorch layout. */
  readonly classifier: Tensor;
  readonly topLayers = ['group3.', 'classifier.'] as const;

  constructor(readonly backend: Backend, config: Omit<NetworkConfig, 'architecture'>, seed = 0) {
    const { inChannels, classes, width } = config;
    this.config = { architecture: 'airbench', inChannels, classes, width };
    const rng = new Sfc32(0xa1b, seed, 0x9e3779b9, 0x85ebca6b);
    const k = whiteningKernel;
    const whiten = whiteningWidth(inChannels);
    // Built in PyTorch's order: whitening weight and bias, the groups, the classifier.
    this.whitenWeight = convWeight(backend, k, inChannels, whiten, rng);
    this.whitenBias = Tensor.fromArray(backend, [whiten], uniform(whiten, 1 / Math.sqrt(k * k * inChannels), rng));
    const [w1, w2, w3] = airbenchWidths(width);
    this.groups = [
      new ConvGroup(backend, 'group1', whiten, w1, rng),
      new ConvGroup(backend, 'group2', w1, w2, rng),
      new ConvGroup(backend, 'group3', w2, w3, rng),
    ];
    this.classifier = linearWeight(backend, w3, classes, rng);
  }

  /** Sets the frozen whitening filters (HWIO, as `whiteningWeights` computes them). */
  setWhitening(weights: Float64Array | Float32Array): void {
    if (weights.length !== this.whitenWeight.size) throw new Error(`whitening weights: ${weights.length} values for a [${this.whitenWeight.shape}] layer`);
    this.whitenWeight.write(Float32Array.from(weights));
  }

  features(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    expectShape('airbench input', x, [undefined, undefined, undefined, this.config.inChannels]);
    const [, h, w] = x.shape;
    if (Math.min(h, w) < minInputSide) {
      throw new UserError(msg`the fast recipe's network needs images of at least ${minInputSide}x${minInputSide} (three 2x2 pools after the 2x2 whitening), not ${h}x${w}: use ${setting('imageSize', minInputSide)} or more, or ${setting('recipe', 'dawnbench')}`);
    }
    return g.chain(x,
      (t) => conv(g, t, this.whitenWeight, 0), (t) => addBias(g, t, this.whitenBias), (t) => gelu(g, t),
      ...this.groups.map((group) => (t: Tensor) => group.forward(g, t, o)));
  }

  head(g: Graph, features: Tensor): Tensor {
    return g.chain(features, (t) => globalMaxPool(g, t), (t) => linear(g, t, this.classifier), (t) => scale(g, t, logitScale));
  }

  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor {
    return g.chain(x, (t) => this.features(g, t, o), (t) => this.head(g, t));
  }

  namedParameters(): Array<[string, Tensor]> {
    return [['whiten.bias', this.whitenBias], ...this.groups.flatMap((group) => group.namedParameters()), ['classifier.weight', this.classifier]];
  }

  state(): StateItem[] {
    return [
      { name: 'whiten.weight', kind: 'conv', tensor: this.whitenWeight },
      { name: 'whiten.bias', kind: 'plain', tensor: this.whitenBias },
      ...this.groups.flatMap((group) => group.state()),
      { name: 'classifier.weight', kind: 'plain', tensor: this.classifier },
    ];
  }

  /** The batch-norm biases: the fast recipe trains them at a higher learning rate. */
  normBiases(): Tensor[] {
    return this.groups.flatMap((group) => [group.norm1.bias, group.norm2.bias]);
  }

  describe(): string {
    const { inChannels, classes, width } = this.config;
    return `AirbenchNet(in_channels=${inChannels}, classes=${classes}, widths=(${airbenchWidths(width).join(', ')}))`;
  }

  dispose(): void {
    for (const t of tensorsOf(this)) t.dispose();
  }
}
