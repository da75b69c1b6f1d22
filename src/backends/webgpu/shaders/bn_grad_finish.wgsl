// Batch-norm backward, stage 2 (one workgroup per channel, with workgroup_sum.wgsl and bn_chunk_totals.wgsl): gbeta = sum g, ggamma = sum g * xhat,
// and the per-channel coefficients of gx = gamma * invstd * (g - gbeta / rows - xhat * ggamma / rows),
// stored planar as coef [4][channels] = (gamma * invstd, gbeta / rows, invstd * ggamma / rows, mean).
struct Params { channels: u32, chunks: u32, rows: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>; // [chunks][2][channels]
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> invstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> ggamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> gbeta: array<f32>;
@group(0) @binding(7) var<storage, read_write> coef: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.x;
  let sums = chunkTotals(tid, c);
  if (tid != 0u) { return; }
  let sg = sums.x;
  let sgx = sums.y;
  gbeta[c] = sg;
  ggamma[c] = sgx;
  let n = f32(P.rows);
  let inv = invstd[c];
  coef[c] = gamma[c] * inv;
  coef[P.channels + c] = sg / n;
  coef[2u * P.channels + c] = inv * sgx / n;
  coef[3u * P.channels + c] = mean[c];
}
