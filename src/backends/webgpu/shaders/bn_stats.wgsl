// Batch-norm statistics, stage 1 (with bn_common.wgsl): per chunk of rows and channel, the sums
// of d and d^2 with d = x - x[0][c]. Shifting by the channel's first value keeps
// E[d^2] - E[d]^2 accurate in float32 when |mean| is large against the spread.
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read_write> partial: array<V>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u) {
  let at = laneOf(tid, wid);
  var s = V(0.0);
  var q = V(0.0);
  if (at.busy) {
    let shift = x[at.channel];
    for (var r = at.begin; r < at.end; r += P.lanes) {
      let d = x[r * P.cv + at.channel] - shift;
      s += d;
      q += d * d;
    }
  }
  storeChunkSums(tid, wid, at, s, q);
}
