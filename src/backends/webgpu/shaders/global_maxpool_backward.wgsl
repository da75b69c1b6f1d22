// gx [n][spatial][c]: gy [n][c] routed to the first maximum of each column, zero elsewhere
// (with global_maxpool_column.wgsl); each thread writes its whole column.
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

fn element(i: u32) {
  let start = columnStart(i);
  let first = firstMaximum(start);
  let g = gy[i];
  for (var s = 0u; s < P.spatial; s++) {
    gx[start + s * P.c] = select(0.0, g, s == first);
  }
}
