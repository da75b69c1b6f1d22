// The one entry point of the elementwise kernels, which the host concatenates in front of a
// kernel file. That file declares `P` (a uniform struct whose first field, `total`, counts the
// threads) and `fn element(i: u32)`, the work of thread i < P.total.

const WG_SIZE: u32 = 256u;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  // A 2D grid of workgroups: one axis caps at 65535, too few for 64M-element tensors.
  let i = (wid.y * nwg.x + wid.x) * WG_SIZE + lid.x;
  if (i < P.total) { element(i); }
}
