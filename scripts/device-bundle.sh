#!/usr/bin/env bash
# Pack what a GPU machine without Node.js, npm or internet needs to run src/bench/gpu/gpu.sh, into .carry/
# (ignored by git; the device tool carries it, 64 MiB at most with the working tree):
#   node.xz        this machine's Node.js binary
#   nm.tar.xz      node_modules without the build tools, the canvas library and other platforms' Dawn
#   dawn.node.xz   Dawn for linux-x64 (the webgpu package's native part)
#   data/          Fashion-MNIST from Debian's package, xz-compressed
#   reference/     shared/reference's PyTorch ResNet-9, for gpu.sh's PyTorch peer (src/bench/gpu/torch_step.py)
# Run `npm run build` first: dist/ is carried beside it. BENCHMARKS.md gives the device command
# that unpacks all of this and trains (carry: .carry, dist, .gl).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .carry/data .carry/reference
cp ../shared/reference/resnet9_reference.py .carry/reference/
[ -f .carry/node.xz ] || xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .carry/node.xz
tar -cf - --exclude='node_modules/typescript' --exclude='node_modules/@types' --exclude='node_modules/node-gyp' \
  --exclude='node_modules/@napi-rs' --exclude='node_modules/webgpu/dist' node_modules | xz -T0 -6 > .carry/nm.tar.xz
[ -f .carry/dawn.node.xz ] || xz -T0 -9 -c node_modules/webgpu/dist/linux-x64/dawn.node > .carry/dawn.node.xz
fm=/usr/share/datasets/fashion-mnist
if [ -d "$fm" ]; then
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f ".carry/data/$f.xz" ] || zcat "$fm/$f.gz" | xz -T0 -9 > ".carry/data/$f.xz"
  done
fi
du -sh .carry dist
