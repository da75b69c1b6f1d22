// Register-blocked tiled GEMM core: C[M][N] = sum over k of A(m, k) * B(k, n). Each workgroup
// computes one BM x BN tile of C; each thread owns TM x TN outputs held in registers.
//
// The host prepends the tile constants BM, BN, BK, TM, TN (TM and TN multiples of 4) and
// appends an operand file, which declares the storage bindings 1.. and defines
//   fn prepareOperands(m0: u32, kBegin: u32, tid: u32)
//     precompute what stays fixed for this thread across the reduction;
//   struct Staged
//     one thread's share of a pair of tiles, held in registers;
//   fn fetchTiles(m0: u32, n0: u32, k0: u32, kEnd: u32, tid: u32) -> Staged
//     load that share of A(m0.., k0..) and B(k0.., n0..) from memory, zeros past kEnd, M and N;
//   fn stashTiles(staged: Staged, tid: u32)
//     write it into As and Bs;
//   fn storeC(m: u32, n: u32, z: u32, value: vec4f)
//     store C[m][n .. n + 3] of reduction split z, skipping what lies outside C.
// Fetching and stashing are separate so that the loads of the next tiles are in flight while
// the current ones are multiplied (software pipelining through registers).
// Workgroup z of the dispatch covers k in [z * kChunk, (z + 1) * kChunk) (split-K; z = 0 and
// kChunk >= K when the reduction is not split).

struct GemmParams {
  M: u32, N: u32, K: u32, kChunk: u32,
  // For the operand files: convolution geometry, matmul transposition flags.
  h: u32, w: u32, cin: u32, cout: u32,
  transA: u32, transB: u32,
}
@group(0) @binding(0) var<uniform> P: GemmParams;

const WX: u32 = BN / TN;
const WY: u32 = BM / TM;
const THREADS: u32 = WX * WY;

// k-major tiles of 4-wide vectors, As[k][m / 4] and Bs[k][n / 4], so that the inner loop reads
// a thread's 4 rows (or 4 columns) with one vector load.
var<workgroup> As: array<vec4f, BK * BM / 4u>;
var<workgroup> Bs: array<vec4f, BK * BN / 4u>;

@compute @workgroup_size(WX, WY)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let tid = lid.y * WX + lid.x;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let kBegin = wid.z * P.kChunk;
  let kEnd = min(P.K, kBegin + P.kChunk);

  // Thread (x, y) owns the row quads y + iq * WY and the column quads x + j * WX: strided so
  // that neighbouring threads read neighbouring vectors of the tiles (no bank conflicts).
  // acc[(4 * iq + r) * TN / 4 + j] holds row 4 * (y + iq * WY) + r, column quad x + j * WX.
  var acc: array<vec4f, TM * TN / 4u>;
  prepareOperands(m0, kBegin, tid);
  var staged = fetchTiles(m0, n0, kBegin, kEnd, tid);
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    stashTiles(staged, tid);
    workgroupBarrier();
    if (k0 + BK < kEnd) { staged = fetchTiles(m0, n0, k0 + BK, kEnd, tid); }
    for (var kk = 0u; kk < BK; kk++) {
      var b: array<vec4f, TN / 4u>;
      for (var j = 0u; j < TN / 4u; j++) {
        b[j] = Bs[kk * (BN / 4u) + lid.x + j * WX];
      }
      for (var iq = 0u; iq < TM / 4u; iq++) {
        let a = As[kk * (BM / 4u) + lid.y + iq * WY];
        for (var j = 0u; j < TN / 4u; j++) {
          let row0 = 4u * iq * (TN / 4u) + j;
          acc[row0] = fma(vec4f(a.x), b[j], acc[row0]);
          acc[row0 + TN / 4u] = fma(vec4f(a.y), b[j], acc[row0 + TN / 4u]);
          acc[row0 + 2u * (TN / 4u)] = fma(vec4f(a.z), b[j], acc[row0 + 2u * (TN / 4u)]);
          acc[row0 + 3u * (TN / 4u)] = fma(vec4f(a.w), b[j], acc[row0 + 3u * (TN / 4u)]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var iq = 0u; iq < TM / 4u; iq++) {
    for (var r = 0u; r < 4u; r++) {
      let m = m0 + (lid.y + iq * WY) * 4u + r;
      for (var j = 0u; j < TN / 4u; j++) {
        storeC(m, n0 + (lid.x + j * WX) * 4u, wid.z, acc[(4u * iq + r) * (TN / 4u) + j]);
      }
    }
  }
}
