// Eval-mode batch norm normalises with the running statistics: mean = runningMean,
// invstd = 1 / sqrt(runningVar + eps), so that bn_apply serves both modes.
struct Params { channels: u32, eps: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> runningMean: array<f32>;
@group(0) @binding(2) var<storage, read> runningVar: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> invstd: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= P.channels) { return; }
  mean[c] = runningMean[c];
  invstd[c] = 1.0 / sqrt(runningVar[c] + P.eps);
}
