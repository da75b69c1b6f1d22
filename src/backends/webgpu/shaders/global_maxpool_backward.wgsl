// gx [n][spatial][c]: gy [n][c] routed to the first maximum of each (image, channel), zero
// elsewhere; one thread per (image, channel) writes its whole column.
struct Params { total: u32, spatial: u32, c: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= P.total) { return; }
  let base = (i / P.c) * P.spatial * P.c + i % P.c;
  var first = 0u;
  var best = x[base];
  for (var s = 1u; s < P.spatial; s++) {
    let v = x[base + s * P.c];
    if (v > best) { best = v; first = s; }
  }
  let g = gy[i];
  for (var s = 0u; s < P.spatial; s++) {
    gx[base + s * P.c] = select(0.0, g, s == first);
  }
}
