// Sum of a vec2f over a 256-thread workgroup; every thread must call it (it holds barriers).
var<workgroup> partialSums: array<vec2f, 256>;

fn workgroupSum(tid: u32, value: vec2f) -> vec2f {
  partialSums[tid] = value;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (tid < stride) { partialSums[tid] += partialSums[tid + stride]; }
    workgroupBarrier();
  }
  return partialSums[0];
}
