// dst[i] = sum over z of src[z][i]: finishes a GEMM whose reduction was split across workgroups.
struct Params { total: u32, splits: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn element(i: u32) {
  var sum = 0.0;
  for (var z = 0u; z < P.splits; z++) { sum += src[z * P.total + i]; }
  dst[i] = sum;
}
