// The standard normal distribution for GELU: Phi(-|v|) = erfc(|v| / sqrt 2) / 2 by the Chebyshev
// fit of Numerical Recipes' erfcc (relative error below 1.2e-7 everywhere, so the far tail keeps
// its accuracy), and the density phi(v). exp is computed here, as in the native kernels, rather
// than by the builtin, whose error WGSL allows to grow with |x| (3 + 2|x| ULP).
struct Normal { cdf: f32, density: f32 }

// e^x for x <= 88: x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor polynomial, 2^n from the
// exponent bits (below -87 it returns e^-87, which GELU never tells from 0).
fn exp_bounded(x0: f32) -> f32 {
  let x = max(x0, -87.0);
  let n = round(x * 1.44269504088896341);
  let r = (x - n * 0.693145751953125) - n * 1.428606765330187e-06;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
  return p * bitcast<f32>((i32(n) + 127) << 23u);
}

fn standard_normal(v: f32) -> Normal {
  let z = abs(v) * 0.70710678118654752;
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
             t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let tail = 0.5 * t * exp_bounded(poly - z * z);
  return Normal(select(tail, 1.0 - tail, v >= 0.0), 0.39894228040143268 * exp_bounded(-0.5 * v * v));
}
