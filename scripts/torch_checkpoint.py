#!/usr/bin/env python3
"""Checkpoint interop with PyTorch, for the tests.

usage: /usr/bin/python3 scripts/torch_checkpoint.py load FILE IN_CHANNELS CLASSES WIDTH INPUT.f32 N H W [--arch airbench]
           loads FILE into shared/reference's ResNet9 (or, with --arch airbench, the AirbenchNet
           of airbench_reference.py beside this script, widths (w, 4w, 4w)) with strict=True and
           prints the eval-mode logits of the float32 NCHW input in INPUT.f32 as JSON.
       /usr/bin/python3 scripts/torch_checkpoint.py save FILE IN_CHANNELS CLASSES WIDTH
           writes a freshly initialised ResNet9's state_dict as safetensors, with the metadata
           kilosecond's checkpoints carry.
"""
import json, os, struct, sys
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', '..', 'shared', 'reference'))
from resnet9_reference import ResNet9  # noqa: E402
sys.path.insert(0, here)
from airbench_reference import AirbenchNet  # noqa: E402

DTYPES = {'F32': (np.float32, torch.float32), 'I64': (np.int64, torch.int64)}


def read(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        arr = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=DTYPES[e['dtype']][0]).reshape(e['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


def write(path, tensors, meta):
    header, blobs, off = {'__metadata__': meta}, [], 0
    for name, t in tensors.items():
        dtype = 'I64' if t.dtype == torch.int64 else 'F32'
        data = t.detach().numpy().astype(DTYPES[dtype][0]).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    js = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)) + js + b''.join(blobs))


args = sys.argv[1:]
arch = 'resnet9'
if '--arch' in args:
    i = args.index('--arch')
    arch = args[i + 1]
    del args[i:i + 2]
cmd, path, c, k, w = args[0], args[1], *map(int, args[2:5])
model = ResNet9(c, k, w) if arch == 'resnet9' else AirbenchNet(c, k, [w, 4 * w, 4 * w])
if cmd == 'load':
    state, _ = read(path)
    model.load_state_dict(state, strict=True)
    model.eval()
    n, h, wd = map(int, args[6:9])
    x = torch.from_numpy(np.fromfile(args[5], dtype=np.float32).reshape(n, c, h, wd))
    with torch.no_grad():
        print(json.dumps(model(x).flatten().tolist()))
else:
    torch.manual_seed(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
    write(path, model.state_dict(), {
        'dataset': 'mnist', 'classes': json.dumps([str(i) for i in range(k)]), 'in_channels': str(c),
        'width': str(w), 'mean': json.dumps([0.1307]), 'std': json.dumps([0.3081]), 'input_size': json.dumps([28, 28])})
