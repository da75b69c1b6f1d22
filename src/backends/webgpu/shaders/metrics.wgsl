// stats[0] += rows whose first maximum is the label; stats[1] += sum of the unsmoothed
// cross-entropy lse - z[label]. One workgroup: n is a batch.
struct Params { n: u32, k: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
  var correct = 0.0;
  var ce = 0.0;
  for (var row = tid; row < P.n; row += 256u) {
    let base = row * P.k;
    var first = 0u;
    for (var j = 1u; j < P.k; j++) {
      if (logits[base + j] > logits[base + first]) { first = j; }
    }
    let label = u32(labels[row]);
    if (first == label) { correct += 1.0; }
    ce += rowLogSumExp(base, P.k).y - logits[base + label];
  }
  let sums = workgroupSum(tid, vec2f(correct, ce));
  if (tid == 0u) {
    stats[0] += sums.x;
    stats[1] += sums.y;
  }
}
