// Shared by the 2x2 max-pool kernels (x [n][h][w][c], floor: an odd last row or column is
// dropped): the four inputs of output (img, py, px, ch), in row-major scan order.
struct Params { total: u32, h: u32, w: u32, c: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;

fn poolWindow(img: u32, py: u32, px: u32, ch: u32) -> array<f32, 4> {
  let base = ((img * P.h + 2u * py) * P.w + 2u * px) * P.c + ch;
  let row = P.w * P.c;
  return array<f32, 4>(x[base], x[base + P.c], x[base + row], x[base + row + P.c]);
}
