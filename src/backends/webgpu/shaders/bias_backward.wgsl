// gbias[c] = sum over rows of gy[row, c]: one thread per channel.
struct Params { total: u32, rows: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> gbias: array<f32>;

fn element(c: u32) {
  var sum = 0.0;
  for (var r = 0u; r < P.rows; r++) { sum += gy[r * P.total + c]; }
  gbias[c] = sum;
}
