// The two per-channel totals of stage 1's chunk sums, for the batch-norm finishing passes
// (bn_stats_finish.wgsl, bn_grad_finish.wgsl), which declare `P` (channels, chunks) and
// `partial` [chunks][2][channels]. Threads split the chunks: a serial loop over ~1000 chunks would
// wait on memory ~1000 times. Needs workgroup_sum.wgsl.
fn chunkTotals(tid: u32, c: u32) -> vec2f {
  var own = vec2f(0.0);
  for (var z = tid; z < P.chunks; z += 256u) {
    own += vec2f(partial[2u * z * P.channels + c], partial[(2u * z + 1u) * P.channels + c]);
  }
  return workgroupSum(tid, own);
}
