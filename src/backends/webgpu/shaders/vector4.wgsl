// Element type of kernels that handle 4 channels per thread (channel counts divisible by 4).
alias V = vec4f;
const VW: u32 = 4u;
