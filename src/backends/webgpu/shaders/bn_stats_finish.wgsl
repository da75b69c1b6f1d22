// Batch-norm statistics, stage 2 (one workgroup per channel, with workgroup_sum.wgsl and bn_chunk_totals.wgsl): adds the chunks' partial sums, writes
// mean and invstd = 1 / sqrt(var + eps), and moves the running statistics PyTorch's way (the
// running variance takes the unbiased variance).
struct Params { channels: u32, chunks: u32, rows: u32, eps: f32, momentum: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> partial: array<f32>; // [chunks][2][channels]
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> invstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> runningMean: array<f32>;
@group(0) @binding(6) var<storage, read_write> runningVar: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.x;
  let sums = chunkTotals(tid, c);
  if (tid != 0u) { return; }
  let s = sums.x;
  let q = sums.y;
  let n = f32(P.rows);
  let shiftedMean = s / n;
  let variance = max(q / n - shiftedMean * shiftedMean, 0.0);
  let mu = x[c] + shiftedMean;
  mean[c] = mu;
  invstd[c] = 1.0 / sqrt(variance + P.eps);
  runningMean[c] = (1.0 - P.momentum) * runningMean[c] + P.momentum * mu;
  // One row has no unbiased variance; PyTorch's reference takes the biased one (zero) then.
  let unbiased = select(variance, variance * n / (n - 1.0), P.rows > 1u);
  runningVar[c] = (1.0 - P.momentum) * runningVar[c] + P.momentum * unbiased;
}
