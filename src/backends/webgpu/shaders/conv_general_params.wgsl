// The general convolution's shape (conv_general*.wgsl): x [n, h, w, cin], w [k, k, cin, cout],
// stride 1, zero padding `pad`, y [n, oh, ow, cout]; `total` counts the threads.
struct Params { total: u32, n: u32, h: u32, w: u32, cin: u32, cout: u32, k: u32, pad: u32, oh: u32, ow: u32 }
@group(0) @binding(0) var<uniform> P: Params;

/** The input coordinate an output coordinate `o` reads through tap `t`, or -1 outside the image. */
fn input_at(o: u32, t: u32, size: u32) -> i32 {
  let i = i32(o + t) - i32(P.pad);
  return select(-1, i, i >= 0 && i < i32(size));
}
