#!/usr/bin/env python3
"""Make a ResNet-9 or airbench reference fixture in the format of shared/fixtures/README.md, with PyTorch.

usage: /usr/bin/python3 scripts/make_fixture.py OUT_DIR WIDTH CHANNELS SIZE BATCH [SEED] [--arch resnet9|airbench] [--precision fp32|bf16]

The shared fixtures cover one shape; the tests use this to check every backend on others
(1-channel 28x28 inputs, odd batch sizes, other widths). Computed in float64, stored as float32,
with the module of shared/reference/resnet9_reference.py (the default, --arch resnet9) or of
airbench_reference.py beside this script (--arch airbench).

--precision bf16 makes the mixed-precision reference instead (docs/precision.md): the model in float32,
its forward passes under torch.autocast('cpu', dtype=torch.bfloat16) (convolutions and the linear
layer on bf16 operands, as PyTorch users train), the loss on float32 logits, float32 SGD. The
metadata adds 'precision': 'bf16'. Grad-CAM stays float32, as kilosecond computes it.

Airbench: WIDTH w means widths (w, 4w, 4w), so 64 is airbench94. BN weights stay frozen at 1 and
their biases are random; the whitening weight is whitening_weights() of the fixture's own input,
the whitening bias random. Gradients (step0.grad.*) and SGD cover the trainable parameters only
(not whiten.weight nor the BN weights); after1.*/after2.* hold the whole state_dict. Grad-CAM's
target layer is features(), group3's output. The metadata adds 'arch' and 'widths' (JSON).
"""
import json, os, struct, sys
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', '..', 'shared', 'reference'))
from resnet9_reference import ResNet9  # noqa: E402
sys.path.insert(0, here)
from airbench_reference import AirbenchNet, whitening_weights  # noqa: E402

args = list(sys.argv[1:])


def flag(name, default):
    if name not in args:
        return default
    i = args.index(name)
    value = args[i + 1] if i + 1 < len(args) else ''
    del args[i:i + 2]
    return value


arch, precision = flag('--arch', 'resnet9'), flag('--precision', 'fp32')
if arch not in ('resnet9', 'airbench') or precision not in ('fp32', 'bf16') or len(args) not in (5, 6):
    sys.exit(__doc__)
# Made in float64 either way (the same initial state and batch for both precisions); the float32
# reference trains in float64 (more accurate than what it judges), the mixed-precision one in
# float32 under bf16 autocast, as autocast runs on float32 models.
out_dir, width, channels, size, batch = args[0], *map(int, args[1:5])
seed = int(args[5]) if len(args) > 5 else 0
smoothing, lrs, wd, momentum = 0.2, [0.05, 0.1], 5e-4, 0.9
torch.manual_seed(seed)
if arch == 'resnet9':
    model = ResNet9(channels, 10, width).double()
    with torch.no_grad():  # random BN affine parameters, so that they are tested too
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
else:
    widths = [width, 4 * width, 4 * width]
    model = AirbenchNet(channels, 10, widths).double()
    with torch.no_grad():  # random BN biases (the weights are frozen at 1); running stats default
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.bias.uniform_(-0.2, 0.2)
# The batch is drawn after the model, as before; airbench's whitening needs it for its init.
x = torch.randn(batch, channels, size, size, dtype=torch.float64)
y = torch.randint(0, 10, (batch,))
if arch == 'airbench':
    with torch.no_grad():  # a real whitening of this batch, and a random bias
        model.whiten.weight.copy_(whitening_weights(x))
        model.whiten.bias.uniform_(-0.1, 0.1)
if precision == 'bf16':
    model, x = model.float(), x.float()
trainable = [(k, p) for k, p in model.named_parameters() if p.requires_grad]  # all of ResNet-9's
tensors = {}


def put(name, t):
    tensors[name] = t.detach().clone()


def put_state(prefix):
    for k, v in model.state_dict().items():
        put(prefix + k, v)


put_state('init.')
put('input', x)
put('labels', y)
opt = torch.optim.SGD([p for _, p in trainable], lr=lrs[0], momentum=momentum, nesterov=True, weight_decay=wd)
for step, lr in enumerate(lrs):
    for group in opt.param_groups:
        group['lr'] = lr
    model.train()
    opt.zero_grad()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=precision == 'bf16'):
        logits = model(x)
    logits = logits.float() if precision == 'bf16' else logits
    loss = F.cross_entropy(logits, y, label_smoothing=smoothing)
    loss.backward()
    if step == 0:
        put('step0.logits', logits)
        put('step0.loss', loss.reshape(1))
        put('step0.loss_nosmooth', F.cross_entropy(logits, y).reshape(1))
        for k, p in trainable:
            put('step0.grad.' + k, p.grad)
    opt.step()
    put_state(f'after{step + 1}.')

model.eval()
with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=precision == 'bf16'):
    put('eval.logits', model(x).float())
feats = model.features(x).detach().requires_grad_(True)
logits = model.head(feats)
target = logits.argmax(1)
logits.gather(1, target[:, None]).sum().backward()
weights = feats.grad.mean(dim=(2, 3), keepdim=True)
cam = F.relu((weights * feats).sum(1))
up = F.interpolate(cam[:, None], size=(size, size), mode='bilinear', align_corners=False)[:, 0]
flat = up.reshape(batch, -1)
flat = flat - flat.min(1, keepdim=True).values
flat = flat / (flat.max(1, keepdim=True).values + 1e-7)
put('gradcam.target', target)
put('gradcam.cam', cam)
put('gradcam.upsampled', flat.reshape(batch, size, size))

header, blobs, offset = {}, [], 0
for name, t in tensors.items():
    if t.dtype in (torch.int64,):
        data, dtype = t.numpy().astype('<i8').tobytes(), 'I64'
    else:
        data, dtype = t.to(torch.float32).numpy().astype('<f4').tobytes(), 'F32'
    header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header['__metadata__'] = {'seed': str(seed), 'width': str(width), 'batch': str(batch), 'channels': str(channels),
                          'size': str(size), 'label_smoothing': str(smoothing), 'lrs': json.dumps(lrs),
                          'weight_decay': str(wd), 'momentum': str(momentum), 'nesterov': 'True'}
if arch == 'airbench':
    header['__metadata__'].update({'arch': 'airbench', 'widths': json.dumps(widths)})
if precision == 'bf16':
    header['__metadata__']['precision'] = 'bf16'
raw = json.dumps(header).encode()
raw += b' ' * ((8 - (8 + len(raw)) % 8) % 8)
os.makedirs(out_dir, exist_ok=True)
tmp = os.path.join(out_dir, 'model.safetensors.tmp')
with open(tmp, 'wb') as f:
    f.write(struct.pack('<Q', len(raw)) + raw + b''.join(blobs))
os.replace(tmp, os.path.join(out_dir, 'model.safetensors'))
