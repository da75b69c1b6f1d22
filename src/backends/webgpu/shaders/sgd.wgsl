// One step of torch.optim.SGD (dampening 0), in place on param and velocity:
//   g = grad + weightDecay * param;  v = momentum * v + g
//   param -= lr * (nesterov ? g + momentum * v : v)
struct Params { total: u32, nesterov: u32, lr: f32, momentum: f32, weightDecay: f32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> velocity: array<f32>;

fn element(i: u32) {
  let p = param[i];
  let g = grad[i] + P.weightDecay * p;
  let v = P.momentum * velocity[i] + g;
  velocity[i] = v;
  var step = v;
  if (P.nesterov != 0u) { step = g + P.momentum * v; }
  param[i] = p - P.lr * step;
}
