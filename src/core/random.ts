/**
 * @file A small, fast, seedable random number generator: sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting RNG, 32-bit variant): four words of state, a handful of adds, shifts and xors per
 * draw, and it passes PractRand. Used for weight initialisation (nn) and augmentation (data).
 */

/** A stream of uniform 32-bit unsigned integers. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    // The first outputs of a fresh sfc32 state are poorly mixed; the reference skips 12.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n); the bias of the multiply-shift is below 2^-32 * n, irrelevant here. */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}
