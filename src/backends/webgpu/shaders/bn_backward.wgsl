// Batch-norm backward, stage 3: gx = k0 * (g - k1 - (x - k3) * k2) with k = the channel's
// coefficients from bn_grad_finish, g = gy masked by (y > 0) when the forward applied ReLU;
// VW channels per thread (after vector1.wgsl or vector4.wgsl and common.wgsl).
struct Params { total: u32, cv: u32, relu: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> y: array<V>;
@group(0) @binding(3) var<storage, read> gy: array<V>;
@group(0) @binding(4) var<storage, read> coef: array<V>; // [4][channel vectors]
@group(0) @binding(5) var<storage, read_write> gx: array<V>;

fn element(i: u32) {
  let c = i % P.cv;
  var g = gy[i];
  if (P.relu != 0u) { g = select(g, V(0.0), y[i] <= V(0.0)); }
  gx[i] = coef[c] * (g - coef[P.cv + c] - (x[i] - coef[3u * P.cv + c]) * coef[2u * P.cv + c]);
}
