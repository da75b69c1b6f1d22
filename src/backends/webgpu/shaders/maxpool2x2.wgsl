// y [n][h/2][w/2][c] = max over each 2x2 window of x [n][h][w][c] (floor: an odd last row or
// column is dropped).
struct Params { total: u32, h: u32, w: u32, c: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= P.total) { return; }
  let oh = P.h / 2u;
  let ow = P.w / 2u;
  let ch = i % P.c;
  let px = (i / P.c) % ow;
  let py = (i / (P.c * ow)) % oh;
  let img = i / (P.c * ow * oh);
  let base = ((img * P.h + 2u * py) * P.w + 2u * px) * P.c + ch;
  let row = P.w * P.c;
  y[i] = max(max(x[base], x[base + P.c]), max(x[base + row], x[base + row + P.c]));
}
