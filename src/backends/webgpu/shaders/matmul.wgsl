// GEMM operands of the dense layer: C = op(A) x op(B), any sizes, op transposing when the flag
// is set. A is [M][K] (stored [K][M] when transA), B is [K][N] (stored [N][K] when transB).
// Scalar loads: these matrices are small (batch x 512 x classes).

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

// Each thread's share of a tile pair: ceil(elements per tile / threads) values of each.
const A_SLOTS: u32 = (BM * BK + THREADS - 1u) / THREADS;
const B_SLOTS: u32 = (BK * BN + THREADS - 1u) / THREADS;
struct Staged { a: array<f32, A_SLOTS>, b: array<f32, B_SLOTS> }

fn prepareOperands(m0: u32, kBegin: u32, tid: u32) {}

fn fetchTiles(m0: u32, n0: u32, k0: u32, kEnd: u32, tid: u32) -> Staged {
  var staged: Staged;
  for (var i = 0u; i < A_SLOTS; i++) {
    let l = tid + i * THREADS;
    let m = m0 + l / BK;
    let k = k0 + l % BK;
    if (l < BM * BK && m < P.M && k < kEnd) {
      if (P.transA != 0u) { staged.a[i] = A[k * P.M + m]; } else { staged.a[i] = A[m * P.K + k]; }
    }
  }
  for (var i = 0u; i < B_SLOTS; i++) {
    let l = tid + i * THREADS;
    let n = n0 + l % BN;
    let k = k0 + l / BN;
    if (l < BK * BN && n < P.N && k < kEnd) {
      if (P.transB != 0u) { staged.b[i] = B[n * P.K + k]; } else { staged.b[i] = B[k * P.N + n]; }
    }
  }
  return staged;
}

fn stashTiles(staged: Staged, tid: u32) {
  for (var i = 0u; i < A_SLOTS; i++) {
    let l = tid + i * THREADS;
    let mm = l / BK;
    if (l < BM * BK) { As[(l % BK) * (BM / 4u) + mm / 4u][mm % 4u] = staged.a[i]; }
  }
  for (var i = 0u; i < B_SLOTS; i++) {
    let l = tid + i * THREADS;
    let nn = l % BN;
    if (l < BK * BN) { Bs[(l / BN) * (BN / 4u) + nn / 4u][nn % 4u] = staged.b[i]; }
  }
}

fn storeC(m: u32, n: u32, z: u32, value: vec4f) {
  if (m >= P.M) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (n + c < P.N) { C[(z * P.M + m) * P.N + n + c] = value[c]; }
  }
}
