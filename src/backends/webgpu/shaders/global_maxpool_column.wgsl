// Shared by the global max-pool kernels: x [n][spatial][c] seen as n * c columns of `spatial`
// values, one thread per column i (image i / c, channel i % c).
struct Params { total: u32, spatial: u32, c: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;

// Where column i starts; its values follow every P.c floats.
fn columnStart(i: u32) -> u32 {
  return (i / P.c) * P.spatial * P.c + i % P.c;
}

// The position of the column's first maximum (PyTorch's tie rule).
fn firstMaximum(start: u32) -> u32 {
  var first = 0u;
  var best = x[start];
  for (var s = 1u; s < P.spatial; s++) {
    let v = x[start + s * P.c];
    if (v > best) { best = v; first = s; }
  }
  return first;
}
