/**
 * @file SGD with momentum, Nesterov and weight decay, exactly torch.optim.SGD (dampening 0,
 * weight decay as L2 added to the gradient). One fused backend kernel per parameter.
 */
import { Tensor } from '../core/tensor.js';
import { UserError } from '../core/errors.js';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * Parameters that train with their own rate and decay (torch.optim.SGD's param_groups): the
 * step's rate times `lrScale`, and `weightDecay` in place of the optimiser's.
 */
export interface ParameterGroup {
  params: readonly Tensor[];
  lrScale: number;
  weightDecay: number;
}

export class Sgd {
  /** Momentum buffers, created zeroed with the optimiser (PyTorch's first step is then identical). */
  private readonly velocity: Tensor[];

  private readonly options: SgdOptions;
  /** Per-parameter rate scale and weight decay, from the groups (the defaults elsewhere). */
  private readonly lrScales: number[];
  private readonly decays: number[];
  /** Parameters that sit out the steps for now (PyTorch's requires_grad = False): no update, no momentum. */
  private readonly frozen = new Set<Tensor>();

  constructor(private readonly params: Tensor[], options: SgdOptions, groups: readonly ParameterGroup[] = []) {
    if (options.nesterov && options.momentum <= 0) throw new UserError('Nesterov momentum needs momentum > 0');
    // Copy the three fields: callers pass whole training configs, whose own `lr` (the schedule's
    // peak) must never stand in for the rate given to each step.
    const { momentum, weightDecay, nesterov } = options;
    this.options = { momentum, weightDecay, nesterov };
    this.lrScales = params.map(() => 1);
    this.decays = params.map(() => weightDecay);
    for (const group of groups) {
      for (const p of group.params) {
        const i = params.indexOf(p);
        if (i < 0) throw new Error(`a parameter group holds a tensor of shape [${p.shape}] that is not among the optimiser's parameters`);
        this.lrScales[i] = group.lrScale;
        this.decays[i] = group.weightDecay;
      }
    }
    this.velocity = params.map((p) => {
      const v = Tensor.empty(p.backend, p.shape);
      p.backend.fill(v.buffer, 0);
      return v;
    });
  }

  /**
   * Update every parameter with learning rate `lr`. Each must have a gradient in `grads`: one
   * without is a bug (an op that records no backward, or a parameter the loss does not reach),
   * so it is an error rather than a parameter silently left untrained. A parameter meant to stay
   * fixed is simply not given to the optimiser.
   */
  step(grads: Map<Tensor, Tensor>, lr: number): void {
    this.params.forEach((p, i) => {
      if (this.frozen.has(p)) return;
      const g = grads.get(p);
      if (g === undefined) {
        throw new Error(
          `parameter ${i} of ${this.params.length} (shape [${p.shape}]) received no gradient in this step: ` +
            'the loss does not depend on it, or an op on its path returned no gradient for it',
        );
      }
      const buffers = { param: p.buffer, grad: g.buffer, velocity: this.velocity[i]!.buffer };
      p.backend.sgdStep(buffers, { ...this.options, lr: lr * this.lrScales[i]!, weightDecay: this.decays[i]!, length: p.size });
    });
  }

  /** The parameters the next step updates: the ones whose gradients a training step must compute. */
  trainable(): Tensor[] {
    return this.params.filter((p) => !this.frozen.has(p));
  }

  /** Freezes `param` (true) or lets it train again (false); its momentum is kept meanwhile. */
  setFrozen(param: Tensor, frozen: boolean): void {
    if (!this.params.includes(param)) throw new Error(`setFrozen: a tensor of shape [${param.shape}] is not among the optimiser's parameters`);
    if (frozen) this.frozen.add(param);
    else this.frozen.delete(param);
  }

  /** The momentum buffers, one per parameter in the constructor's order (to save a run's state). */
  momenta(): readonly Tensor[] {
    return this.velocity;
  }

  /** Restores momentum buffers saved from `momenta()` (to resume a run). */
  loadMomenta(values: readonly Float32Array[]): void {
    if (values.length !== this.velocity.length) throw new Error(`${values.length} momentum buffers for ${this.velocity.length} parameters`);
    this.velocity.forEach((v, i) => v.write(values[i]!));
  }

  dispose(): void {
    for (const v of this.velocity) v.dispose();
  }
}
