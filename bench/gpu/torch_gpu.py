#!/usr/bin/env python3
"""PyTorch CUDA peer of bench/gpu/run.mjs: the same three workloads, eager, TF32 off.

Usage: python3 bench/gpu/torch_gpu.py '<json: {fashion: dir|null, gemm: n, gemmReps, mlpEpochs, bestEpochs}>'
Prints one JSON object. GEMM: A·B and A·Bᵀ of n×n float32 (TF32 off, so fp32 FMA as keel's
WGSL), TFLOP/s from CUDA-synchronized wall time. Training: the dropout MLP (784-256-256-10,
dropout 0.2/0.5, SGD lr 0.5, batch 256) and best-mlp's network (784-1024-512-10, dropout 0.3/0.3,
AdamW lr 2e-3, batch 128), the data on the GPU, a plain eager loop (no loss read per step),
seconds per epoch with a synchronize at each epoch's end; Fashion-MNIST when `fashion` names its
directory, else seeded uniform data of its shapes (timings do not depend on the values).
"""
import gzip
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn

args = json.loads(sys.argv[1])
out = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
# KEEL_TORCH_DEVICE=cpu runs the same code on the CPU (a smoke test of this script without a GPU).
on_cpu = os.environ.get("KEEL_TORCH_DEVICE") == "cpu"
if not torch.cuda.is_available() and not on_cpu:
    print(json.dumps(out))
    sys.exit(0)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cpu" if on_cpu else "cuda")
out["device"] = "cpu" if on_cpu else torch.cuda.get_device_name(0)
torch.manual_seed(0)


def sync():
    if not on_cpu:
        torch.cuda.synchronize()


def gemm(n, reps, transposed):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    bb = b.t() if transposed else b
    for _ in range(3):
        a @ bb
    sync()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ bb
        sync()
        best = min(best, (time.perf_counter() - t0) / reps)
    return 2 * n**3 / best / 1e12


n = int(args.get("gemm", 4096))
reps = int(args.get("gemmReps", 10))
out["gemm"] = {"n": n, "AB": gemm(n, reps, False), "ABt": gemm(n, reps, True)}


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank :]), dtype=torch.uint8).reshape(dims)


def find(d, name):
    for f in (name, name + ".gz"):
        if os.path.exists(os.path.join(d, f)):
            return os.path.join(d, f)
    raise FileNotFoundError(os.path.join(d, name))


if args.get("fashion"):
    d = args["fashion"]
    X = read_idx(find(d, "train-images-idx3-ubyte")).reshape(-1, 784).float() / 255
    Y = read_idx(find(d, "train-labels-idx1-ubyte")).long()
    Xt = read_idx(find(d, "t10k-images-idx3-ubyte")).reshape(-1, 784).float() / 255
    Yt = read_idx(find(d, "t10k-labels-idx1-ubyte")).long()
    out["data"] = "Fashion-MNIST"
else:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(60000, 784, generator=g)
    Y = torch.randint(0, 10, (60000,), generator=g)
    Xt = torch.rand(10000, 784, generator=g)
    Yt = torch.randint(0, 10, (10000,), generator=g)
    out["data"] = "synthetic (uniform, Fashion-MNIST's shapes)"
X, Y, Xt, Yt = X.to(dev), Y.to(dev), Xt.to(dev), Yt.to(dev)


def train(hidden, drops, make_opt, batch, epochs):
    layers = []
    prev = 784
    for h, p in zip(hidden, drops):
        layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(p)]
        prev = h
    net = nn.Sequential(*layers, nn.Linear(prev, 10)).to(dev)
    opt = make_opt(net.parameters())
    loss = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(X.shape[0], device=dev)
        sync()
        t0 = time.perf_counter()
        for i in range(0, X.shape[0], batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            l = loss(net(X[idx]), Y[idx])
            l.backward()
            opt.step()
        sync()
        times.append(time.perf_counter() - t0)
    net.eval()
    with torch.no_grad():
        acc = (net(Xt).argmax(1) == Yt).float().mean().item()
    later = sorted(times[1:]) or times
    return {"epochSeconds": times, "seconds": later[len(later) // 2], "testAccuracy": acc}


out["mlp"] = train([256, 256], [0.2, 0.5], lambda p: torch.optim.SGD(p, lr=0.5), 256, int(args.get("mlpEpochs", 3)))
out["bestMlp"] = train(
    [1024, 512], [0.3, 0.3], lambda p: torch.optim.AdamW(p, lr=2e-3), 128, int(args.get("bestEpochs", 3))
)
print(json.dumps(out))
