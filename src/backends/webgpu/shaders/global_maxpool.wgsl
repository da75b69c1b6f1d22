// y [n][c] = max over the spatial positions of x [n][spatial][c]; one thread per (image, channel).
struct Params { total: u32, spatial: u32, c: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= P.total) { return; }
  let base = (i / P.c) * P.spatial * P.c + i % P.c;
  var best = x[base];
  for (var s = 1u; s < P.spatial; s++) { best = max(best, x[base + s * P.c]); }
  y[i] = best;
}
