// gx of a 2x2 max pool, one thread per input element: the window's gradient goes to its first
// maximum in row-major scan order (PyTorch's tie rule); every other element, including the row
// and column dropped by floor, gets zero.
struct Params { total: u32, h: u32, w: u32, c: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= P.total) { return; }
  let oh = P.h / 2u;
  let ow = P.w / 2u;
  let ch = i % P.c;
  let ix = (i / P.c) % P.w;
  let iy = (i / (P.c * P.w)) % P.h;
  let img = i / (P.c * P.w * P.h);
  let px = ix / 2u;
  let py = iy / 2u;
  if (px >= ow || py >= oh) { gx[i] = 0.0; return; }
  let base = ((img * P.h + 2u * py) * P.w + 2u * px) * P.c + ch;
  let row = P.w * P.c;
  let window = array<f32, 4>(x[base], x[base + P.c], x[base + row], x[base + row + P.c]);
  var first = 0u;
  for (var j = 1u; j < 4u; j++) {
    if (window[j] > window[first]) { first = j; }
  }
  let own = (iy % 2u) * 2u + ix % 2u;
  var g = 0.0;
  if (own == first) { g = gy[((img * oh + py) * ow + px) * P.c + ch]; }
  gx[i] = g;
}
