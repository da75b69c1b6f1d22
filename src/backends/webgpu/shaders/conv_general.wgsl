// y = conv(x, w): one thread per output element (pixel, co).
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn element(i: u32) {
  let co = i % P.cout;
  let pixel = i / P.cout;
  let ox = pixel % P.ow;
  let oy = (pixel / P.ow) % P.oh;
  let n = pixel / (P.ow * P.oh);
  var sum = 0.0;
  for (var ky = 0u; ky < P.k; ky++) {
    let iy = input_at(oy, ky, P.h);
    if (iy < 0) { continue; }
    for (var kx = 0u; kx < P.k; kx++) {
      let ix = input_at(ox, kx, P.w);
      if (ix < 0) { continue; }
      let base = ((n * P.h + u32(iy)) * P.w + u32(ix)) * P.cin;
      let taps = (ky * P.k + kx) * P.cin;
      for (var ci = 0u; ci < P.cin; ci++) { sum += x[base + ci] * wt[(taps + ci) * P.cout + co]; }
    }
  }
  y[i] = sum;
}
