#!/usr/bin/env python3
"""keel ⇄ PyTorch through safetensors (test/interop.test.ts reads what this writes; no Python at test time).

Run with Debian's python3-torch after keel wrote test/golden/keel-model.safetensors
(`KEEL_WRITE_GOLDEN=1 npx vitest run test/interop.test.ts`):  /usr/bin/python3 test/golden/safetensors_interop.py
- loads keel's file into the same nn.Sequential with load_state_dict(strict=True) and records its
  outputs on a fixed input (keel must produce the same);
- does the same with the model entries of a keel training checkpoint (keel-checkpoint.safetensors);
- trains a PyTorch model for a few steps (BatchNorm statistics, int64 num_batches_tracked) and writes
  its state dict as test/golden/torch-model.safetensors, with its outputs (keel must load it and agree).
The safetensors reader and writer here are plain struct + json (Debian has no python3-safetensors),
following the format: u64 little-endian header length, JSON header, data; tensors in descending
dtype order then by name; header padded with spaces to 8 bytes.
"""
import json
import os
import struct

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"F64": torch.float64, "F32": torch.float32, "I64": torch.int64, "I32": torch.int32, "BOOL": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}
ORDER = {"I64": 13, "F64": 12, "F32": 11, "I32": 9, "BOOL": 0}  # the reference's dtype enum positions


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    assert (8 + n) % 8 == 0, "data must start 8-aligned"
    meta = header.pop("__metadata__", {})
    body = data[8 + n :]
    out, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = info["data_offsets"]
        assert b == end, f"{name}: offsets not contiguous"
        end = e
        t = torch.frombuffer(bytearray(body[b:e]), dtype=DTYPES[info["dtype"]]) if e > b else torch.empty(0, dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    assert end == len(body), "tensors must cover the data"
    return out, meta


def write_safetensors(path, tensors, meta):
    items = sorted(tensors.items(), key=lambda kv: (-ORDER[NAMES[kv[1].dtype]], kv[0]))
    header, blobs, at = {}, [], 0
    if meta:
        header["__metadata__"] = dict(sorted(meta.items()))
    for name, t in items:
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def net():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(6, 8), nn.ReLU(), nn.LayerNorm(8), nn.Linear(8, 8), nn.BatchNorm1d(8),
        nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 3),
    )


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": "float64", "data": t.double().reshape(-1).tolist()}


torch.manual_seed(20261202)
x = torch.randn(4, 2, 3)

# keel → PyTorch
keel_state, keel_meta = read_safetensors(os.path.join(HERE, "keel-model.safetensors"))
assert keel_meta == {"format": "pt"}, keel_meta
m = net()
m.load_state_dict(keel_state, strict=True)
m.eval()
with torch.no_grad():
    keel_out = m(x)

# A keel training checkpoint: its model.* entries are a state dict under the prefix 'model.'.
ck_state, ck_meta = read_safetensors(os.path.join(HERE, "keel-checkpoint.safetensors"))
assert ck_meta.get("format") == "keel-checkpoint", ck_meta.get("format")
c = net()
c.load_state_dict({k[len("model."):]: v for k, v in ck_state.items() if k.startswith("model.")}, strict=True)
c.eval()
with torch.no_grad():
    ck_out = c(x)

# PyTorch → keel: a few training steps so the BatchNorm statistics and counter are non-trivial.
t = net()
opt = torch.optim.SGD(t.parameters(), lr=0.1)
for _ in range(3):
    opt.zero_grad()
    t(torch.randn(16, 2, 3)).pow(2).mean().backward()
    opt.step()
t.eval()
with torch.no_grad():
    torch_out = t(x)
write_safetensors(os.path.join(HERE, "torch-model.safetensors"), t.state_dict(), {"format": "pt"})

with open(os.path.join(HERE, "safetensors.json"), "w") as f:
    json.dump(
        {
            "input": enc(x),
            "keelModelOutput": enc(keel_out),
            "keelCheckpointOutput": enc(ck_out),
            "torchModelOutput": enc(torch_out),
            "torchNumBatchesTracked": int(t.state_dict()["5.num_batches_tracked"]),
        },
        f,
    )
print("wrote torch-model.safetensors and safetensors.json; keel's file loaded strictly:", sorted(keel_state))
