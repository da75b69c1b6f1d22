/**
 * @file The recipes: what differs between training the DAWNBench way and the fast way, beyond
 * the settings a run records. Each names its network, the shape of its learning rate, its
 * parameter groups, and what happens around the steps (set-up from the data, freezing, weight
 * averaging). The trainer runs any of them through the same loop.
 *
 * - `dawnbench`: David Page's ResNet-9 recipe as the article ran it (DESIGN.md §1).
 * - `fast`: after airbench94 (Keller Jordan, arXiv 2404.00498): the airbench network with its
 *   whitening layer computed from the training images, Nesterov SGD with airbench's rate,
 *   momentum, decay and 64x rate on the batch-norm biases, a warm-up/warm-down rate, the weights
 *   pulled towards a moving average every 5 steps, translate-2 and alternating-flip
 *   augmentation, and mirror-plus-shift test-time augmentation.
 */
import type { Tensor } from '../core/tensor.js';
import type { ImageSet, DatasetInfo } from '../data/datasets.js';
import { testBatches } from '../data/batch.js';
import { AirbenchNet, whiteningKernel } from '../nn/airbench.js';
import { type Architecture, type Network, parametersOf, tensorsOf } from '../nn/network.js';
import { whiteningWeights } from '../nn/whitening.js';
import { Lookahead } from '../optim/lookahead.js';
import { piecewiseLinear, oneCycle } from '../optim/schedule.js';
import { type ParameterGroup, Sgd, type SgdOptions } from '../optim/sgd.js';

export const recipeNames = ['dawnbench', 'fast'] as const;
export type RecipeName = (typeof recipeNames)[number];

/** What a recipe does around the steps of one run. */
export interface RecipeSession {
  /** Before the first step of `epoch` (0-based). */
  startEpoch(epoch: number): void;
  /** After each step; `stepsDone` counts the run's steps so far, this one included. */
  afterStep(stepsDone: number): void;
  /** After the run's last step, before the final evaluation. */
  finish(): void;
  /**
   * Tensors the session keeps beyond the model and optimiser (the fast recipe's weight
   * average), in a fixed order: the training state saves them so that a resumed run goes on
   * exactly as an uninterrupted one.
   */
  state(): readonly Tensor[];
  dispose(): void;
}

export interface RunShape {
  epochs: number;
  stepsPerEpoch: number;
  /** The schedule's peak rate (TrainConfig.lr). */
  peak: number;
  /** Where the one-cycle rate peaks (TrainConfig.peakEpoch; the dawnbench recipe only). */
  peakEpoch: number;
}

export interface Recipe {
  name: RecipeName;
  architecture: Architecture;
  /** The network as titles name it. */
  networkName: string;
  /** lr(step) for step 0, 1, ... of the run. */
  schedule(run: RunShape): (step: number) => number;
  /** The optimiser over every parameter of `network`, with the recipe's groups. */
  optimiser(network: Network, options: SgdOptions): Sgd;
  /**
   * Sets a fresh or resumed network up for training and returns what runs around the steps.
   * `train` is the un-augmented training set (the fast recipe's whitening is computed from it).
   */
  start(network: Network, optimiser: Sgd, o: { train: ImageSet; info: DatasetInfo; totalSteps: number; resumed: boolean }): RecipeSession;
}

/** A recipe that does nothing around its steps (the DAWNBench one), and `fit`'s default. */
export const nothingAround: RecipeSession = { startEpoch() {}, afterStep() {}, finish() {}, state: () => [], dispose() {} };

const dawnbench: Recipe = {
  name: 'dawnbench',
  architecture: 'resnet9',
  networkName: 'ResNet-9',
  schedule: ({ peak, peakEpoch, epochs, stepsPerEpoch }) => oneCycle({ peak, peakEpoch, epochs, stepsPerEpoch }),
  optimiser: (network, options) => new Sgd(parametersOf(network), options),
  start: () => nothingAround,
};

/** airbench94's constants, in its own terms (a summed loss over 1024-image batches). */
export const airbench = {
  /** Rate per 1024 images, and the "kilostep" scale it is divided by: 1024 (1 + 1 / (1 - momentum)). */
  lrPer1024: 11.5,
  momentum: 0.85,
  /** Weight decay per 1024 images, decoupled from the rate. */
  weightDecayPer1024: 0.0153,
  /** The batch-norm biases' rate multiplier (their decay stays the same per step). */
  biasScaler: 64,
  /** Epochs the whitening layer's bias trains before it is frozen. */
  whitenBiasEpochs: 3,
  /** Training images the whitening is computed from, and the eigenvalue floor. */
  whitenImages: 5000,
  whitenEps: 5e-4,
  /** The weight average: updated every `every` steps with decay base^5 (step / total)^3. */
  lookahead: { every: 5, base: 0.95 },
  /** Warm-up from `start` to 1 over the first `warmup` share of the steps, then down to `end`. */
  rate: { start: 0.2, warmup: 0.23, end: 0.07 },
} as const;

/**
 * airbench's rate and decay for a mean loss: its summed-loss rate lr / kilostep times the
 * batch (1024) is 11.5 / (1 + 1 / 0.15) = 1.5; its decay, added to the summed gradient, is
 * 0.0153 * 1024 / 11.5 per 1024 images, which on a mean gradient is 0.0153 / 11.5.
 */
export const fastRate = airbench.lrPer1024 / (1 + 1 / (1 - airbench.momentum));
export const fastWeightDecay = airbench.weightDecayPer1024 / airbench.lrPer1024;

/** The whitening filters from the first training images, normalised as the batches are. */
function whiteningFromTraining(network: AirbenchNet, train: ImageSet, info: DatasetInfo): void {
  const count = Math.min(airbench.whitenImages, train.count);
  const head: ImageSet = { ...train, count };
  const [batch] = testBatches(head, info, count);
  const images = { data: batch!.images, n: count, h: info.height, w: info.width, c: info.channels };
  network.setWhitening(whiteningWeights(images, whiteningKernel, airbench.whitenEps));
}

const fast: Recipe = {
  name: 'fast',
  architecture: 'airbench',
  networkName: 'the airbench network',
  schedule: ({ peak, epochs, stepsPerEpoch }) => {
    const total = epochs * stepsPerEpoch;
    const warmup = Math.floor(total * airbench.rate.warmup);
    const factor = piecewiseLinear([[0, airbench.rate.start], [Math.max(warmup, 1e-9), 1], [total, airbench.rate.end]]);
    return (step) => peak * factor(step);
  },
  optimiser: (network, options) => {
    const biases = (network as AirbenchNet).normBiases();
    const groups: ParameterGroup[] = [{ params: biases, lrScale: airbench.biasScaler, weightDecay: options.weightDecay / airbench.biasScaler }];
    return new Sgd(parametersOf(network), options, groups);
  },
  start: (network, optimiser, o) => {
    const net = network as AirbenchNet;
    // A resumed run's whitening came back with its weights.
    if (!o.resumed) whiteningFromTraining(net, o.train, o.info);
    // Everything float in the state dict moves with the average, running statistics included.
    const averaged = new Lookahead(tensorsOf(net));
    return {
      startEpoch: (epoch) => optimiser.setFrozen(net.whitenBias, epoch >= airbench.whitenBiasEpochs),
      afterStep: (stepsDone) => {
        if (stepsDone % airbench.lookahead.every !== 0) return;
        averaged.step(airbench.lookahead.base ** 5 * (stepsDone / o.totalSteps) ** 3);
      },
      finish: () => averaged.step(1),
      state: () => averaged.averages,
      dispose: () => averaged.dispose(),
    };
  },
};

export const recipes: Record<RecipeName, Recipe> = { dawnbench, fast };
