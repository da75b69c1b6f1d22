// Helper of the loss kernels (which declare `logits`); the host appends this file to them.

// Row `row` of a [n][k] logits matrix: (max, log-sum-exp), the softmax's stable pieces.
fn rowLogSumExp(base: u32, k: u32) -> vec2f {
  var top = logits[base];
  for (var j = 1u; j < k; j++) { top = max(top, logits[base + j]); }
  var sum = 0.0;
  for (var j = 0u; j < k; j++) { sum += exp(logits[base + j] - top); }
  return vec2f(top, top + log(sum));
}
