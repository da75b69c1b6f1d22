// GEMM operands of the 3x3 convolutions (stride 1, zero padding 1) over NHWC tensors whose
// channel counts are multiples of 4 (the host pads other counts). The im2col matrix
// im2col(x)[pixel][k], k = (3 * ky + kx) * cin + ci, is never stored: tiles gather it from x.
//
// The host prepends FILTER:
//   FILTER = 0, forward and backward-data: C[pixel][co] = sum_k im2col(x)[pixel][k] * w[k][co]
//     with M = n*h*w, N = cout, K = 9*cin; Bm = weights [9*cin][cout].
//   FILTER = 1, backward-filter: C[k][co] = sum over pixels p of im2col(x)[p][k] * gy[p][co]
//     with M = 9*cin, N = cout, K = n*h*w; Bm = gy [n*h*w][cout].
// Either way B is a row-major [K][N] matrix, loaded as is.

@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> Bm: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4f>;

// Each thread's share of a tile pair: ceil(vectors per tile / threads) 4-wide vectors of each.
const A_SLOTS: u32 = (BM * BK / 4u + THREADS - 1u) / THREADS;
const B_SLOTS: u32 = (BK * BN / 4u + THREADS - 1u) / THREADS;
struct Staged { a: array<vec4f, A_SLOTS>, b: array<vec4f, B_SLOTS> }

// Integer division by a runtime value costs dozens of instructions, so each A slot of a thread
// works out its geometry once. A slot reads one fixed pixel (FILTER = 0) or one fixed im2col
// column (FILTER = 1) in every k-slice:
//   slotPixel (pixel, y, x): FILTER = 0 its pixel; FILTER = 1 its pixel in the current k-slice,
//     moved along as the slices advance. y = OUTSIDE marks a slot past the last pixel.
//   slotTap (dy, dx, ci / 4): FILTER = 1 its column's tap offsets; dy = OUTSIDE past 9 * cin.
const OUTSIDE: i32 = -65536;
var<private> slotPixel: array<vec3i, A_SLOTS>;
var<private> slotTap: array<vec3i, A_SLOTS>;

fn pixelAt(m: u32) -> vec3i {
  let yx = m % (P.h * P.w);
  return vec3i(i32(m), i32(yx / P.w), i32(yx % P.w));
}

fn prepareOperands(m0: u32, kBegin: u32, tid: u32) {
  for (var i = 0u; i < A_SLOTS; i++) {
    let l = tid + i * THREADS;
    if (FILTER == 0u) {
      let m = m0 + l / (BK / 4u);
      slotPixel[i] = vec3i(0, OUTSIDE, 0);
      if (l < BM * BK / 4u && m < P.M) { slotPixel[i] = pixelAt(m); }
    } else {
      let k = m0 + (l % (BM / 4u)) * 4u;
      let tap = k / P.cin;
      slotTap[i] = vec3i(OUTSIDE, 0, 0);
      if (k < P.M) { slotTap[i] = vec3i(i32(tap / 3u) - 1, i32(tap % 3u) - 1, i32((k - tap * P.cin) / 4u)); }
      slotPixel[i] = pixelAt(kBegin + l / (BM / 4u));
    }
  }
}

// x at the neighbour (dy, dx) of a pixel, channels 4 * cq .. 4 * cq + 3; zero in the padding.
fn neighbour(pixel: vec3i, dy: i32, dx: i32, cq: u32) -> vec4f {
  let y = pixel.y + dy;
  let x = pixel.z + dx;
  if (y < 0 || x < 0 || y >= i32(P.h) || x >= i32(P.w)) { return vec4f(0.0); }
  return X[u32(pixel.x + dy * i32(P.w) + dx) * (P.cin / 4u) + cq];
}

// Moves a (pixel, y, x) on by BK pixels (one k-slice of the backward-filter reduction).
fn advance(p: vec3i) -> vec3i {
  var x = p.z + i32(BK);
  var y = p.y;
  while (x >= i32(P.w)) { x -= i32(P.w); y += 1; }
  while (y >= i32(P.h)) { y -= i32(P.h); }
  return vec3i(p.x + i32(BK), y, x);
}

fn fetchTiles(m0: u32, n0: u32, k0: u32, kEnd: u32, tid: u32) -> Staged {
  var staged: Staged;
  for (var i = 0u; i < B_SLOTS; i++) {
    let l = tid + i * THREADS;
    let k = k0 + l / (BN / 4u);
    let n = n0 + (l % (BN / 4u)) * 4u;
    if (l < BK * BN / 4u && k < kEnd && n < P.N) { staged.b[i] = Bm[k * (P.N / 4u) + n / 4u]; }
  }
  for (var i = 0u; i < A_SLOTS; i++) {
    let l = tid + i * THREADS;
    if (l >= BM * BK / 4u) { break; }
    if (FILTER == 0u) {
      // A(pixel, k): 4 consecutive k of one pixel are one vector of x.
      let k = k0 + (l % (BK / 4u)) * 4u;
      if (k < kEnd) {
        let tap = k / P.cin;
        staged.a[i] = neighbour(slotPixel[i], i32(tap / 3u) - 1, i32(tap % 3u) - 1, (k - tap * P.cin) / 4u);
      }
    } else {
      // A(k, pixel) = im2col(x)[pixel][k]: a pixel's im2col row, read along k.
      let t = slotTap[i];
      if (u32(slotPixel[i].x) < kEnd && t.x != OUTSIDE) {
        staged.a[i] = neighbour(slotPixel[i], t.x, t.y, u32(t.z));
      }
      slotPixel[i] = advance(slotPixel[i]);
    }
  }
  return staged;
}

fn stashTiles(staged: Staged, tid: u32) {
  for (var i = 0u; i < B_SLOTS; i++) {
    let l = tid + i * THREADS;
    if (l < BK * BN / 4u) { Bs[l] = staged.b[i]; }
  }
  for (var i = 0u; i < A_SLOTS; i++) {
    let l = tid + i * THREADS;
    if (l >= BM * BK / 4u) { break; }
    let v = staged.a[i];
    if (FILTER == 0u) {
      // The vector holds k .. k + 3 of one pixel: it goes down a column of the k-major As.
      let mm = l / (BK / 4u);
      let row = (l % (BK / 4u)) * BM + mm / 4u; // = (4 * kq) * (BM / 4) + mm / 4
      let lane = mm % 4u;
      As[row][lane] = v.x;
      As[row + BM / 4u][lane] = v.y;
      As[row + BM / 2u][lane] = v.z;
      As[row + 3u * BM / 4u][lane] = v.w;
    } else {
      // Already k-major.
      As[l] = v;
    }
  }
}

fn storeC(m: u32, n: u32, z: u32, value: vec4f) {
  if (m < P.M && n < P.N) { C[(z * P.M + m) * (P.N / 4u) + n / 4u] = value; }
}
