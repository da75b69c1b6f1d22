// y [n][c] = max over the spatial positions of x (with global_maxpool_column.wgsl).
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn element(i: u32) {
  let start = columnStart(i);
  y[i] = x[start + firstMaximum(start) * P.c];
}
