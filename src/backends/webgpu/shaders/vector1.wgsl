// Element type of kernels that handle 1 channel per thread (any channel count).
alias V = f32;
const VW: u32 = 1u;
