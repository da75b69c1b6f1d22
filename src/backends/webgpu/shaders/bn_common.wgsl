// Per-channel sums over chunks of rows for batch norm (after vector1.wgsl or vector4.wgsl).
// A workgroup of 256 threads covers `groupWidth` channel vectors of one chunk of rows (workgroup
// y), with `lanes` threads per channel vector walking the rows; neighbouring threads read
// neighbouring addresses. Partial sums land in partial [chunks][2][channel vectors].

struct Params { rows: u32, cv: u32, rowsPerChunk: u32, groupWidth: u32, lanes: u32, relu: u32 }
@group(0) @binding(0) var<uniform> P: Params;

var<workgroup> laneA: array<V, 256>;
var<workgroup> laneB: array<V, 256>;

// busy: the thread has both a lane and a channel vector to walk.
struct Lane { channel: u32, lane: u32, begin: u32, end: u32, busy: bool }

fn laneOf(tid: u32, wid: vec3u) -> Lane {
  let channel = wid.x * P.groupWidth + tid % P.groupWidth;
  let lane = tid / P.groupWidth;
  let begin = wid.y * P.rowsPerChunk + lane;
  let end = min(P.rows, (wid.y + 1u) * P.rowsPerChunk);
  return Lane(channel, lane, begin, end, lane < P.lanes && tid % P.groupWidth + wid.x * P.groupWidth < P.cv);
}

// Adds the lanes' (a, b) and stores the chunk's sums (every thread must call it: it holds a barrier).
fn storeChunkSums(tid: u32, wid: vec3u, at: Lane, a: V, b: V) {
  laneA[tid] = a;
  laneB[tid] = b;
  workgroupBarrier();
  if (at.lane == 0u && at.busy) {
    var sa = a;
    var sb = b;
    for (var l = 1u; l < P.lanes; l++) {
      sa += laneA[l * P.groupWidth + tid];
      sb += laneB[l * P.groupWidth + tid];
    }
    partial[2u * wid.y * P.cv + at.channel] = sa;
    partial[(2u * wid.y + 1u) * P.cv + at.channel] = sb;
  }
}
