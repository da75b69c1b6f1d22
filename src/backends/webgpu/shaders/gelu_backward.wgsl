// gx = gy * (Phi(x) + x * phi(x))
struct Params { total: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

fn element(i: u32) {
  let v = x[i];
  let n = standard_normal(v);
  gx[i] = gy[i] * (n.cdf + v * n.density);
}
