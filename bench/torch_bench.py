#!/usr/bin/env python3
"""PyTorch CPU peer for bench/run.mjs: GEMM GFLOP/s, the dropout MLP epoch, the weight-decay run.

Run by bench/run.mjs with /usr/bin/python3 (Debian python3-torch); prints one JSON object.
Threading is set by the caller through OMP_NUM_THREADS / OPENBLAS_NUM_THREADS and torch.set_num_threads.
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
torch.set_num_threads(int(args.get("threads", 1)))
torch.manual_seed(0)
out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "gemm": {}, "mlp": None, "weightDecay": None}


def gflops(m, k, n):
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    for _ in range(3):
        a @ b
    reps = max(3, int(2e9 / (2 * m * k * n)))
    reps = min(reps, 20000)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = min(best, (time.perf_counter() - t0) / reps)
    return 2 * m * k * n / best / 1e9


for m, k, n in args.get("gemm", []):
    out["gemm"][f"{m}x{k}x{n}"] = gflops(m, k, n)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank :]), dtype=torch.uint8).reshape(dims)


if args.get("fashion"):
    d = args["fashion"]
    X = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(-1, 784).float() / 255
    Y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).long()
    Xt = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784).float() / 255
    Yt = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).long()
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    loss = nn.CrossEntropyLoss()
    times = []
    for epoch in range(args["epochs"]):
        net.train()
        perm = torch.randperm(X.shape[0])
        t0 = time.perf_counter()
        for i in range(0, X.shape[0], 256):
            idx = perm[i : i + 256]
            opt.zero_grad()
            l = loss(net(X[idx]), Y[idx])
            l.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    net.eval()
    with torch.no_grad():
        acc = (net(Xt).argmax(1) == Yt).float().mean().item()
    # Peak resident memory of this process (KiB on Linux), for the plain loop's RSS comparison.
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["mlp"] = {"epochSeconds": times, "testAccuracy": acc, "peakRssMiB": rss}

# The chapter's weight-decay run: d = 200, n = 20, batch 5, 100 epochs, lr 0.003.
Xw = torch.randn(20, 200)
yw = Xw @ (torch.ones(200, 1) * 0.01) + 0.05 + 0.01 * torch.randn(20, 1)
# As in bench/keel_peer.mjs: the (λ = 0, λ = 3) sequence twice; pass 1 is cold, pass 2 steady.
res = []
for _pass in range(2 if args.get("weightDecay", True) else 0):
    cur = {}
    for lam in (0, 3):
        w = torch.randn(200, 1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=0.003)
        steps = 0
        t0 = time.perf_counter()
        for epoch in range(100):
            perm = torch.randperm(20)
            for i in range(0, 20, 5):
                idx = perm[i : i + 5]
                opt.zero_grad()
                l = ((Xw[idx] @ w + b - yw[idx]) ** 2 / 2).mean() + lam * (w**2).sum() / 2
                l.backward()
                opt.step()
                steps += 1
        cur[str(lam)] = {"microsecondsPerStep": (time.perf_counter() - t0) / steps * 1e6, "wNorm": w.norm().item()}
    res.append(cur)
out["weightDecay"] = res or None
print(json.dumps(out))
