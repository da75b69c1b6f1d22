// Mean softmax cross-entropy with label smoothing s over n rows of k logits, in one workgroup
// (n is a batch). With target t = (1 - s) * onehot + s / k, a row's loss is
//   -sum_j t_j * log p_j = lse - (1 - s) * z[label] - (s / k) * sum_j z_j.
// Also writes probs = softmax(logits) for the backward pass.
struct Params { n: u32, k: u32, smoothing: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
  var total = 0.0;
  for (var row = tid; row < P.n; row += 256u) {
    let base = row * P.k;
    let lse = rowLogSumExp(base, P.k).y;
    var sum = 0.0;
    for (var j = 0u; j < P.k; j++) {
      let z = logits[base + j];
      probs[base + j] = exp(z - lse);
      sum += z;
    }
    let label = u32(labels[row]);
    total += lse - (1.0 - P.smoothing) * logits[base + label] - P.smoothing / f32(P.k) * sum;
  }
  let sums = workgroupSum(tid, vec2f(total, 0.0));
  if (tid == 0u) { loss[0] = sums.x / f32(P.n); }
}
