/**
 * @file The standard normal distribution in float64, for the reference GELU: Phi (the CDF) from
 * erfc, which is accurate in both tails, and phi (the density).
 *
 * erfc(z) for z >= 0: below 1.5 as 1 - erf(z), erf from the series 2/sqrt(pi) e^(-z^2) sum 2^n
 * z^(2n+1) / (1*3*...*(2n+1)), whose terms are all positive (erfc is still above 0.03 there, so
 * the subtraction costs under two digits); from 1.5 on from the continued fraction
 * e^(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), which 100 terms take to float64
 * precision there and which does not cancel in the tail.
 */
const SQRT_PI = Math.sqrt(Math.PI);

function erfc(z: number): number {
  if (z < 1.5) {
    let term = z;
    let sum = z;
    for (let n = 1; term > 1e-17 * sum; n++) {
      term *= (2 * z * z) / (2 * n + 1);
      sum += term;
    }
    return 1 - ((2 / SQRT_PI) * Math.exp(-z * z) * sum);
  }
  let fraction = z;
  for (let n = 100; n >= 1; n--) fraction = z + n / 2 / fraction;
  return Math.exp(-z * z) / (SQRT_PI * fraction);
}

/** Phi(x) = P(X <= x) for a standard normal X. */
export function normalCdf(x: number): number {
  const tail = 0.5 * erfc(Math.abs(x) / Math.SQRT2);
  return x >= 0 ? 1 - tail : tail;
}

/** phi(x) = e^(-x^2 / 2) / sqrt(2 pi). */
export function normalDensity(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}
