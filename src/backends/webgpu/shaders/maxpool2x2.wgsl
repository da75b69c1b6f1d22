// y [n][h/2][w/2][c] = max over each 2x2 window of x (with maxpool_window.wgsl).
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn element(i: u32) {
  let oh = P.h / 2u;
  let ow = P.w / 2u;
  let v = poolWindow(i / (P.c * ow * oh), (i / (P.c * ow)) % oh, (i / P.c) % ow, i % P.c);
  y[i] = max(max(v[0], v[1]), max(v[2], v[3]));
}
