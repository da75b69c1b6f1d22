// a += t * (b - a)
struct Params { total: u32, t: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

fn element(i: u32) {
  a[i] += P.t * (b[i] - a[i]);
}
