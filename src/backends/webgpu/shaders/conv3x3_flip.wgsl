// The weights of conv3x3's backward-data pass: dst [3][3][cout][cin] holds src [3][3][cin][cout]
// rotated by 180 degrees and transposed, since dL/dx = conv3x3(dL/dy, rot180(w)^T).
struct Params { total: u32, cin: u32, cout: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn element(i: u32) {
  let ci = i % P.cin;
  let co = (i / P.cin) % P.cout;
  let tap = i / (P.cin * P.cout);
  // tap = 3 * ky + kx, so the rotated tap 3 * (2 - ky) + (2 - kx) is 8 - tap.
  dst[i] = src[((8u - tap) * P.cin + ci) * P.cout + co];
}
