// Batch-norm backward, stage 1 (with bn_common.wgsl): per chunk of rows and channel, the sums of
// g and g * xhat, where g = gy masked by (y > 0) when the forward applied ReLU and
// xhat = (x - mean) * invstd.
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> y: array<V>;
@group(0) @binding(3) var<storage, read> gy: array<V>;
@group(0) @binding(4) var<storage, read> mean: array<V>;
@group(0) @binding(5) var<storage, read> invstd: array<V>;
@group(0) @binding(6) var<storage, read_write> partial: array<V>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u) {
  let at = laneOf(tid, wid);
  var s = V(0.0);
  var q = V(0.0);
  if (at.busy) {
    let mu = mean[at.channel];
    let inv = invstd[at.channel];
    for (var r = at.begin; r < at.end; r += P.lanes) {
      let i = r * P.cv + at.channel;
      var g = gy[i];
      if (P.relu != 0u) { g = select(g, V(0.0), y[i] <= V(0.0)); }
      s += g;
      q += g * (x[i] - mu) * inv;
    }
  }
  storeChunkSums(tid, wid, at, s, q);
}
