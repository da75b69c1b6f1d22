// gx = dL/dx: one thread per input element (pixel, ci), gathering from every output that reads it.
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

fn element(i: u32) {
  let ci = i % P.cin;
  let pixel = i / P.cin;
  let ix = i32(pixel % P.w);
  let iy = i32((pixel / P.w) % P.h);
  let n = pixel / (P.w * P.h);
  var sum = 0.0;
  for (var ky = 0u; ky < P.k; ky++) {
    let oy = iy - i32(ky) + i32(P.pad);
    if (oy < 0 || oy >= i32(P.oh)) { continue; }
    for (var kx = 0u; kx < P.k; kx++) {
      let ox = ix - i32(kx) + i32(P.pad);
      if (ox < 0 || ox >= i32(P.ow)) { continue; }
      let base = ((n * P.oh + u32(oy)) * P.ow + u32(ox)) * P.cout;
      let row = ((ky * P.k + kx) * P.cin + ci) * P.cout;
      for (var co = 0u; co < P.cout; co++) { sum += gy[base + co] * wt[row + co]; }
    }
  }
  gx[i] = sum;
}
