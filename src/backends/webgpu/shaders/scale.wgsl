// dst = a * alpha
struct Params { total: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn element(i: u32) {
  dst[i] = a[i] * P.alpha;
}
