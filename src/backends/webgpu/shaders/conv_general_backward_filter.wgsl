// gw = dL/dw: one thread per weight (tap, ci, co), summing over every output pixel of the batch.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gw: array<f32>;

fn element(i: u32) {
  let co = i % P.cout;
  let ci = (i / P.cout) % P.cin;
  let tap = i / (P.cout * P.cin);
  let ky = tap / P.k;
  let kx = tap % P.k;
  var total = 0.0;
  for (var n = 0u; n < P.n; n++) {
    for (var oy = 0u; oy < P.oh; oy++) {
      let iy = input_at(oy, ky, P.h);
      if (iy < 0) { continue; }
      for (var ox = 0u; ox < P.ow; ox++) {
        let ix = input_at(ox, kx, P.w);
        if (ix < 0) { continue; }
        total += x[((n * P.h + u32(iy)) * P.w + u32(ix)) * P.cin + ci] * gy[((n * P.oh + oy) * P.ow + ox) * P.cout + co];
      }
    }
  }
  gw[i] = total;
}
