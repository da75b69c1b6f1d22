/**
 * @file What every network kilosecond trains offers the rest of the program: the trainer,
 * evaluation, Grad-CAM, predict and checkpoints see a `Network`, never a particular architecture.
 * Two exist: ResNet-9 (the DAWNBench recipe's) and the airbench network (the fast recipe's).
 */
import type { Backend } from '../core/backend.js';
import type { Graph } from '../core/graph.js';
import type { BatchNormState } from '../core/ops/batchnorm.js';
import type { Tensor } from '../core/tensor.js';

export const architectures = ['resnet9', 'airbench'] as const;
export type Architecture = (typeof architectures)[number];

export interface NetworkConfig {
  architecture: Architecture;
  inChannels: number;
  classes: number;
  /** ResNet-9: the base width (w, 2w, 4w, 8w). Airbench: the first group's (w, 4w, 4w). */
  width: number;
}

export interface ForwardOptions {
  training: boolean;
  /** Momentum of the batch-norm running statistics in training mode; each network has its own default. */
  bnMomentum?: number;
}

/**
 * One entry of the state dict, in PyTorch's names: a convolution weight (HWIO on the device, OIHW
 * in files), any other tensor as it is, or a batch-norm layer's counter of training passes.
 */
export type StateItem =
  | { name: string; kind: 'conv'; tensor: Tensor }
  | { name: string; kind: 'plain'; tensor: Tensor }
  | { name: string; kind: 'counter'; bn: BatchNormState };

export interface Network {
  readonly backend: Backend;
  readonly config: NetworkConfig;
  /** The last feature maps before the head's pool: Grad-CAM's target layer. */
  features(g: Graph, x: Tensor, o: ForwardOptions): Tensor;
  /** Features -> logits [n, classes]. */
  head(g: Graph, features: Tensor): Tensor;
  /** x [n, h, w, inChannels], normalised -> logits [n, classes]. */
  forward(g: Graph, x: Tensor, o: ForwardOptions): Tensor;
  /** Trainable tensors with their state-dict names, in PyTorch's `named_parameters()` order. */
  namedParameters(): Array<[string, Tensor]>;
  /** Every state-dict entry (parameters, frozen tensors, running statistics), in PyTorch's order. */
  state(): StateItem[];
  /** State-dict name prefixes of the layers nearest the output, which the saliency sanity check re-randomises. */
  readonly topLayers: readonly string[];
  /** The PyTorch constructor this network matches, for error messages. */
  describe(): string;
  dispose(): void;
}

/** Trainable tensors in PyTorch's `model.parameters()` order. */
export function parametersOf(network: Network): Tensor[] {
  return network.namedParameters().map(([, t]) => t);
}

/** Every tensor a network owns (what `dispose` releases). */
export function tensorsOf(network: Network): Tensor[] {
  return network.state().flatMap((item) => (item.kind === 'counter' ? [] : [item.tensor]));
}

/** A batch-norm layer's state-dict entries under `prefix` (PyTorch's BatchNorm2d names). */
export function batchNormState(prefix: string, bn: BatchNormState): StateItem[] {
  return [
    { name: `${prefix}.weight`, kind: 'plain', tensor: bn.weight },
    { name: `${prefix}.bias`, kind: 'plain', tensor: bn.bias },
    { name: `${prefix}.running_mean`, kind: 'plain', tensor: bn.runningMean },
    { name: `${prefix}.running_var`, kind: 'plain', tensor: bn.runningVar },
    { name: `${prefix}.num_batches_tracked`, kind: 'counter', bn },
  ];
}
