/**
 * @file The graph: scope of one forward/backward pass, and its reverse-mode autodiff tape.
 *
 * Ops (src/core/ops/*, each made by `defineOp` in src/core/op.ts) compute their output with
 * backend kernels and hand the graph a node to record: its inputs, its output, the tensors its
 * backward reads (`saves`), and the backward function itself, written right beside the forward
 * (micrograd's pattern).
 *
 * Memory: every tensor an op makes through `g.empty` belongs to the graph. `backward` releases
 * each saved activation as soon as the last node that reads it has run, and each gradient as
 * soon as it has been passed on, so peak memory is the forward's activations, not twice that.
 * `dispose` releases everything left. A step therefore allocates from, and returns to, the
 * backend's pool in the same pattern every time: resident memory stays flat.
 */
import type { Backend } from './backend.js';
import type { OpRecord } from './op.js';
import { sizeOf, Tensor } from './tensor.js';

/**
 * Computes the gradients of a node's inputs from the gradient of its output. Returns one entry
 * per input: a graph-owned tensor, or undefined where `needs(i)` is false.
 */
export type BackwardFn = (gy: Tensor, needs: (inputIndex: number) => boolean) => Array<Tensor | undefined>;

interface Node {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  saves: Tensor[];
  backward: BackwardFn;
}

export class Graph {
  private readonly owned = new Set<Tensor>();
  private readonly nodes: Node[] = [];
  private readonly creator = new Map<Tensor, Node>();

  /** `record: false` builds no tape (inference): ops then keep nothing for a backward pass. */
  constructor(readonly backend: Backend, readonly options: { record?: boolean } = {}) {}

  get recording(): boolean {
    return this.options.record !== false;
  }

  /** A graph-owned tensor with undefined contents. */
  empty(shape: readonly number[]): Tensor {
    const t = new Tensor(this.backend, shape, this.backend.alloc(sizeOf(shape)));
    this.owned.add(t);
    return t;
  }

  /** A graph-owned tensor filled with `value`. */
  full(shape: readonly number[], value: number): Tensor {
    const t = this.empty(shape);
    this.backend.fill(t.buffer, value);
    return t;
  }

  /** Take `t` out of the graph's ownership: the caller must dispose it. */
  keep(t: Tensor): Tensor {
    this.owned.delete(t);
    return t;
  }

  /** Release a graph-owned tensor early (inference code that knows a tensor is dead). */
  free(t: Tensor): void {
    if (this.owned.delete(t)) t.dispose();
  }

  /**
   * An intermediate the caller will not read again. An inference graph hands its buffer back
   * now, so that a forward pass holds about one layer's activations at a time instead of all of
   * them (six test-time views of 1000 images held 9 GB); a recording graph keeps it, since its
   * tape may have saved it for the backward pass.
   */
  release(t: Tensor): void {
    if (!this.recording) this.free(t);
  }

  /**
   * `steps` applied in turn to `x`, each intermediate released once the next step has read it
   * (see `release`). `x` itself is the caller's.
   */
  chain(x: Tensor, ...steps: Array<(t: Tensor) => Tensor>): Tensor {
    return steps.reduce((h, step) => {
      const y = step(h);
      if (h !== x && h !== y) this.release(h);
      return y;
    }, x);
  }

  /** Adds an op's node to the tape (defineOp calls this for every op it runs). */
  record(op: string, { inputs, output, saves, backward }: OpRecord): void {
    if (!this.recording) return;
    const node = { op, inputs, output, saves, backward };
    this.nodes.push(node);
    this.creator.set(output, node);
  }

  /**
   * Reverse-mode differentiation of `root` with respect to `wrt`, seeded with `seed` (default:
   * ones, i.e. d root / d root = 1). Only the nodes on a path from some `wrt` tensor to `root`
   * run. Returns graph-owned gradients, one per `wrt` tensor reached; read them before
   * `dispose`. The tape is consumed: a graph runs backward once.
   */
  backward(root: Tensor, wrt: Iterable<Tensor>, seed?: Tensor): Map<Tensor, Tensor> {
    const targets = new Set(wrt);
    const relevant = this.dependents(targets);
    const lastUse = this.lastUses();
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, seed ?? this.full(root.shape, 1));

    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const gy = grads.get(node.output);
      if (gy !== undefined && !targets.has(node.output)) {
        const needs = (k: number): boolean => relevant.has(node.inputs[k]);
        const gxs = node.backward(gy, needs);
        node.inputs.forEach((input, k) => {
          const gx = gxs[k];
          if (!needs(k)) return;
          if (gx === undefined) {
            throw new Error(`op ${node.op} returned no gradient for its input ${k} (shape [${input.shape}]), which the loss depends on`);
          }
          this.accumulate(grads, input, gx);
        });
        grads.delete(node.output);
        // A backward may pass gy straight on (add does): then it now belongs to an input.
        if (!gxs.includes(gy)) this.free(gy);
      }
      for (const t of node.saves) if (lastUse.get(t) === i) this.free(t);
    }
    this.nodes.length = 0;
    this.creator.clear();
    const result = new Map<Tensor, Tensor>();
    for (const t of targets) {
      const g = grads.get(t);
      if (g !== undefined) result.set(t, g);
    }
    return result;
  }

  /** Release every tensor the graph still owns. */
  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.clear();
    this.nodes.length = 0;
    this.creator.clear();
  }

  private accumulate(grads: Map<Tensor, Tensor>, t: Tensor, gx: Tensor): void {
    const prev = grads.get(t);
    if (prev === undefined) {
      grads.set(t, gx);
      return;
    }
    // d/dt of f(t) + h(t) = f'(t) + h'(t): a tensor used twice (a residual input) sums its gradients.
    this.backend.add({ a: prev.buffer, b: gx.buffer, out: prev.buffer }, { length: prev.size });
    this.free(gx);
  }

  /** Tensors that depend on some target (including the targets): where gradients must flow. */
  private dependents(targets: Set<Tensor>): Set<Tensor> {
    const relevant = new Set(targets);
    for (const node of this.nodes) {
      if (node.inputs.some((t) => relevant.has(t))) relevant.add(node.output);
    }
    return relevant;
  }

  /** For each graph-owned saved tensor, the index of the earliest node saving it: the last backward to read it. */
  private lastUses(): Map<Tensor, number> {
    const last = new Map<Tensor, number>();
    this.nodes.forEach((node, i) => {
      for (const t of node.saves) if (this.owned.has(t) && !last.has(t)) last.set(t, i);
    });
    return last;
  }
}
