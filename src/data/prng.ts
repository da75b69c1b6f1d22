/**
 * @file Seeded randomness for augmentation and shuffling.
 *
 * Every random draw is a pure function of (seed, epoch, index, stream): each image gets its own
 * generator, so worker threads produce the same bytes whatever order they run in, and the
 * precomputed shards hold exactly what the online loader would have made for the same seed.
 * The generator is sfc32 (src/core/random.ts).
 */
import { Sfc32 } from '../core/random.js';

/** Which independent sequence a generator belongs to, so shuffles and augmentation never share draws. */
export const Stream = { Augment: 0x41554721, Shuffle: 0x53485546, Flip: 0x464c4950 } as const;
export type Stream = (typeof Stream)[keyof typeof Stream];

/** splitmix32's finaliser: spreads every input bit over the whole word. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The generator for one (seed, epoch, index) cell of one stream. */
export function rngFor(seed: number, epoch: number, index: number, stream: Stream): Sfc32 {
  const s = mix32(seed ^ mix32(stream));
  const e = mix32(s ^ mix32(epoch + 0x632be5ab));
  const i = mix32(e ^ mix32(index + 0x1b873593));
  return new Sfc32(s, e, i, mix32(i ^ 0x7f4a7c15));
}

/** The order in which epoch `epoch` visits `count` items: a seeded Fisher-Yates shuffle. */
export function epochPermutation(count: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const rng = rngFor(seed, epoch, 0, Stream.Shuffle);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
