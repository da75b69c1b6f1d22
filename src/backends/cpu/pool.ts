/**
 * @file Recycled Float32Arrays, keyed by length. A training step asks for the same sizes every
 * time, so after the first step every `alloc` is a pop from a free list: no allocation, no
 * garbage, flat RSS.
 */
export class ArrayPool {
  private readonly free = new Map<number, Float32Array[]>();
  private live = 0;
  private pooled = 0;

  take(length: number): Float32Array {
    const reused = this.free.get(length)?.pop();
    this.live += length * 4;
    if (reused) {
      this.pooled -= length * 4;
      return reused;
    }
    return new Float32Array(length);
  }

  give(array: Float32Array): void {
    const list = this.free.get(array.length);
    if (list) list.push(array);
    else this.free.set(array.length, [array]);
    this.live -= array.length * 4;
    this.pooled += array.length * 4;
  }

  stats(): { liveBytes: number; pooledBytes: number } {
    return { liveBytes: this.live, pooledBytes: this.pooled };
  }

  /** Drops the free lists (the arrays go to the garbage collector). */
  clear(): void {
    this.free.clear();
    this.pooled = 0;
  }
}
