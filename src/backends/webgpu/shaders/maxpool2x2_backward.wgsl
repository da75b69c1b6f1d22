// gx of a 2x2 max pool (with maxpool_window.wgsl), one thread per input element: the window's
// gradient goes to its first maximum in row-major scan order (PyTorch's tie rule); every other
// element, including the row and column dropped by floor, gets zero.
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

fn element(i: u32) {
  let oh = P.h / 2u;
  let ow = P.w / 2u;
  let ch = i % P.c;
  let ix = (i / P.c) % P.w;
  let iy = (i / (P.c * P.w)) % P.h;
  let img = i / (P.c * P.w * P.h);
  let px = ix / 2u;
  let py = iy / 2u;
  if (px >= ow || py >= oh) { gx[i] = 0.0; return; }
  let window = poolWindow(img, py, px, ch);
  var first = 0u;
  for (var j = 1u; j < 4u; j++) {
    if (window[j] > window[first]) { first = j; }
  }
  let own = (iy % 2u) * 2u + ix % 2u;
  gx[i] = select(0.0, gy[((img * oh + py) * ow + px) * P.c + ch], own == first);
}
