#!/usr/bin/env python3
# The reference for the dropout experiment's first check: D2L §5.6's concise setting in PyTorch —
# 784-256-256-10, dropout 0.2/0.5, N(0, 0.01) weights, zero biases, SGD lr 0.5, batch 256, 10 epochs,
# all 60k images — and its test accuracy for seeds 0..N-1 (one thread; ~12 s per seed on the dev VM).
# Run: OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_dropout.py 8   (Debian python3-torch)
# Each seed's test accuracy after every epoch is printed too (evaluation draws no random numbers, so
# the training is the same as without it); the JSON's testAccuracy is the last epoch's, and
# medianOfLast3 the median of the last three — the statistic keel's dropout experiment checks.
import gzip, json, os, struct, sys
import torch, torch.nn as nn
torch.set_num_threads(1)
def read_idx(path):
    with gzip.open(path, "rb") as f: data = f.read()
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)
d = "/usr/share/datasets/fashion-mnist"
X = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(-1, 784).float() / 255
Y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).long()
Xt = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784).float() / 255
Yt = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).long()
res = []
med = []
def test_accuracy(net):
    net.eval()
    with torch.no_grad():
        return (net(Xt).argmax(1) == Yt).float().mean().item()
for seed in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01); nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    loss = nn.CrossEntropyLoss()
    epochs = []
    for epoch in range(10):
        net.train()
        perm = torch.randperm(X.shape[0])
        for i in range(0, X.shape[0], 256):
            idx = perm[i:i + 256]
            opt.zero_grad(); l = loss(net(X[idx]), Y[idx]); l.backward(); opt.step()
        epochs.append(test_accuracy(net))
    acc = epochs[-1]
    res.append(acc)
    med.append(sorted(epochs[-3:])[1])
    print(seed, acc, "median of the last 3:", f"{med[-1]:.4f}", "by epoch:", " ".join(f"{a:.4f}" for a in epochs), flush=True)
print(json.dumps({"testAccuracy": res, "mean": sum(res) / len(res), "medianOfLast3": med, "meanOfMedians": sum(med) / len(med)}))
