// y = act(gamma * (x - mean) * invstd + beta), act = ReLU when P.relu != 0; VW channels per
// thread (after vector1.wgsl or vector4.wgsl and common.wgsl).
struct Params { total: u32, cv: u32, relu: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> gamma: array<V>;
@group(0) @binding(3) var<storage, read> beta: array<V>;
@group(0) @binding(4) var<storage, read> mean: array<V>;
@group(0) @binding(5) var<storage, read> invstd: array<V>;
@group(0) @binding(6) var<storage, read_write> y: array<V>;

fn element(i: u32) {
  let c = i % P.cv;
  var v = gamma[c] * ((x[i] - mean[c]) * invstd[c]) + beta[c];
  if (P.relu != 0u) { v = max(v, V(0.0)); }
  y[i] = v;
}
