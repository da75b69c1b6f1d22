// Copies src [outer][srcMid][srcInner] into dst [outer][dstMid][dstInner], zero-filling where dst
// is larger and dropping where it is smaller. The convolutions use it to round channel counts
// up to multiples of 4 (their vec4 loads need it) and to cut the padding off again.
struct Params { total: u32, srcMid: u32, srcInner: u32, dstMid: u32, dstInner: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn element(i: u32) {
  let inner = i % P.dstInner;
  let rest = i / P.dstInner;
  let mid = rest % P.dstMid;
  let outer = rest / P.dstMid;
  var value = 0.0;
  if (mid < P.srcMid && inner < P.srcInner) {
    value = src[(outer * P.srcMid + mid) * P.srcInner + inner];
  }
  dst[i] = value;
}
