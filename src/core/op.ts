/**
 * @file How an op is defined: a forward that computes its output with backend kernels and
 * returns, beside it, the tape entry of its backward. The graph records that entry itself, so
 * an op cannot forget to, and `backward` is a required field, so an op without one does not
 * compile. An op whose gradient is deliberately undefined says so with `notDifferentiable`.
 */
import type { BackwardFn, Graph } from './graph.js';
import type { Tensor } from './tensor.js';

/** What an op's forward hands the graph. */
export interface OpRecord {
  /** The tensors the output depends on, in the order `backward` returns their gradients. */
  inputs: Tensor[];
  output: Tensor;
  /** Every tensor `backward` reads, so that the graph can free each after its last reader. */
  saves: Tensor[];
  /**
   * The gradient of each input from the output's gradient `gy`: a graph-owned tensor wherever
   * `needs(i)` is true (the graph fails the step, naming the op, if one is missing).
   */
  backward: BackwardFn;
}

/** An op: call it like a function of its graph and arguments; `opName` names it in errors. */
export type Op<Args extends unknown[]> = ((g: Graph, ...args: Args) => Tensor) & { readonly opName: string };

export function defineOp<Args extends unknown[]>(name: string, forward: (g: Graph, ...args: Args) => OpRecord): Op<Args> {
  const op = (g: Graph, ...args: Args): Tensor => {
    const record = forward(g, ...args);
    g.record(name, record);
    return record.output;
  };
  return Object.assign(op, { opName: name });
}

/** The backward of an op (or mode of one) that has no gradient: reaching it is an error that says why. */
export function notDifferentiable(reason: string): BackwardFn {
  return () => {
    throw new Error(reason);
  };
}
