// Helpers for the elementwise kernels; the host concatenates this file in front of them.

const WG_SIZE: u32 = 256u;

// Elementwise kernels run on a 2D grid of 256-thread workgroups (one axis caps at 65535
// workgroups, too few for 64M-element tensors); this is the thread's flat index.
fn flatIndex(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG_SIZE + lid.x;
}
