// glogits = gloss[0] * (probs - target) / n, target = (1 - s) * onehot(label) + s / k.
struct Params { total: u32, n: u32, k: u32, smoothing: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read> gloss: array<f32>;
@group(0) @binding(4) var<storage, read_write> glogits: array<f32>;

fn element(i: u32) {
  var wanted = P.smoothing / f32(P.k);
  if (i % P.k == u32(labels[i / P.k])) { wanted += 1.0 - P.smoothing; }
  glogits[i] = gloss[0] * (probs[i] - wanted) / f32(P.n);
}
