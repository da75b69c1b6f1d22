/**
 * @file Tensors: a shape and a device buffer, nothing else.
 *
 * A worked training step, the whole engine in eight lines (src/train/step.ts is the real one):
 *
 *   const g = new Graph(backend);                       // one graph per step: the scope of its tensors
 *   try {
 *     const logits = model.forward(g, images, { training: true });
 *     const loss = crossEntropy(g, logits, labels, 0.2);
 *     const grads = g.backward(loss, model.parameters()); // Map<Tensor, Tensor>
 *     optimiser.step(grads, lr);                          // reads the gradients before they go
 *   } finally {
 *     g.dispose();                                         // every intermediate buffer back to the pool
 *   }
 *
 * Ownership is explicit and deterministic: a tensor made by a Graph belongs to it and is released
 * by `g.dispose()` (or earlier, during backward, once nothing needs it); a tensor made with
 * `Tensor.fromArray`/`Tensor.empty` (parameters, running statistics, input batches) belongs to the
 * caller, who releases it with `dispose()`. Nothing waits for the garbage collector.
 */
import type { Backend, DeviceBuffer } from './backend.js';
import { UserError } from './errors.js';

export class Tensor {
  private released = false;

  constructor(
    readonly backend: Backend,
    readonly shape: readonly number[],
    private readonly buf: DeviceBuffer,
  ) {
    if (buf.length !== sizeOf(shape)) throw new Error(`buffer of ${buf.length} for shape [${shape}]`);
  }

  /** A caller-owned tensor with undefined contents. */
  static empty(backend: Backend, shape: readonly number[]): Tensor {
    return new Tensor(backend, shape, backend.alloc(sizeOf(shape)));
  }

  /** A caller-owned tensor holding a copy of `data`. */
  static fromArray(backend: Backend, shape: readonly number[], data: Float32Array): Tensor {
    if (data.length !== sizeOf(shape)) {
      throw new UserError(`${data.length} values do not fill a tensor of shape [${shape}] (${sizeOf(shape)} values)`);
    }
    const t = Tensor.empty(backend, shape);
    backend.write(t.buffer, data);
    return t;
  }

  get size(): number {
    return this.buf.length;
  }

  get buffer(): DeviceBuffer {
    if (this.released) throw new Error(`use of a released tensor of shape [${this.shape}]`);
    return this.buf;
  }

  /** Copy the values to the host. Waits for the device. */
  read(): Promise<Float32Array> {
    return this.backend.read(this.buffer);
  }

  /** Overwrite the values from the host. */
  write(data: Float32Array): void {
    if (data.length !== this.size) throw new UserError(`${data.length} values for a tensor of shape [${this.shape}]`);
    this.backend.write(this.buffer, data);
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.backend.release(this.buf);
  }
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Throws a UserError unless `t` has `rank` dimensions (and the given ones where not undefined). */
export function expectShape(what: string, t: Tensor, expected: ReadonlyArray<number | undefined>): void {
  const ok = t.shape.length === expected.length && expected.every((d, i) => d === undefined || d === t.shape[i]);
  if (!ok) {
    const want = expected.map((d) => (d === undefined ? '?' : String(d))).join(',');
    throw new UserError(`${what}: expected shape [${want}], got [${t.shape}]`);
  }
}
