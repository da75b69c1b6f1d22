// Float32 throughput probe (with common.wgsl): P.iters rounds of eight independent vec4 FMA
// chains per thread, on registers only, so the arithmetic units are the bottleneck. Each chain
// runs v <- v * a + b from v = i / total + c / 8; the sum of the eight chains' lanes is written
// out so that no round can be optimised away.
struct Params { total: u32, iters: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

fn element(i: u32) {
  let start = f32(i) / f32(P.total);
  let a = vec4f(P.a);
  let b = vec4f(P.b);
  var v0 = vec4f(start + 0.0 / 8.0);
  var v1 = vec4f(start + 1.0 / 8.0);
  var v2 = vec4f(start + 2.0 / 8.0);
  var v3 = vec4f(start + 3.0 / 8.0);
  var v4 = vec4f(start + 4.0 / 8.0);
  var v5 = vec4f(start + 5.0 / 8.0);
  var v6 = vec4f(start + 6.0 / 8.0);
  var v7 = vec4f(start + 7.0 / 8.0);
  for (var k = 0u; k < P.iters; k++) {
    v0 = fma(v0, a, b);
    v1 = fma(v1, a, b);
    v2 = fma(v2, a, b);
    v3 = fma(v3, a, b);
    v4 = fma(v4, a, b);
    v5 = fma(v5, a, b);
    v6 = fma(v6, a, b);
    v7 = fma(v7, a, b);
  }
  let sum = (v0 + v1) + (v2 + v3) + (v4 + v5) + (v6 + v7);
  out[i] = sum.x + sum.y + sum.z + sum.w;
}
