#!/usr/bin/env python3
"""Golden values for keel's ops, computed by PyTorch in float64.

Run with Debian's python3-torch:  /usr/bin/python3 test/golden/generate.py
Writes test/golden/ops.json. For each case: the inputs, PyTorch's forward output, and the
gradients of sum(output * w) for a fixed random w. The tests read the JSON; they never need Python.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20261128)
D = torch.float64


def rnd(*shape, lo=-2.0, hi=2.0):
    return torch.rand(shape, dtype=D) * (hi - lo) + lo


def pos(*shape):
    return torch.rand(shape, dtype=D) * 1.5 + 0.25


def enc(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": [bool(v) for v in t.reshape(-1).tolist()]}
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "dtype": "int32", "data": [int(v) for v in t.reshape(-1).tolist()]}
    return {"shape": list(t.shape), "dtype": "float64", "data": [float(v) for v in t.reshape(-1).tolist()]}


cases = []


def case(name, op, fn, inputs, args=None, differentiable=True, frozen=()):
    """inputs: list of tensors; float ones get requires_grad when differentiable (except indices in frozen)."""
    ins = []
    for i, t in enumerate(inputs):
        t = t.clone()
        if differentiable and t.is_floating_point() and i not in frozen:
            t.requires_grad_(True)
        ins.append(t)
    out = fn(*ins)
    entry = {"name": name, "op": op, "args": args or {}, "inputs": [enc(t) for t in ins], "output": enc(out)}
    if differentiable and out.is_floating_point() and out.requires_grad:
        w = rnd(*out.shape)
        grads = torch.autograd.grad((out * w).sum(), [t for t in ins if t.requires_grad], allow_unused=True)
        it = iter(grads)
        entry["weights"] = enc(w)
        entry["grads"] = [
            (enc(g) if g is not None else None) if t.requires_grad else None
            for t, g in ((t, next(it) if t.requires_grad else None) for t in ins)
        ]
    cases.append(entry)


# ---- element-wise binary, with broadcasting, size-1 and 0-d operands
for op, f, mk in [
    ("add", torch.add, rnd), ("sub", torch.sub, rnd), ("mul", torch.mul, rnd),
    ("div", torch.div, pos), ("maximum", torch.maximum, rnd), ("minimum", torch.minimum, rnd),
]:
    case(f"{op} same shape", op, f, [mk(2, 3), mk(2, 3)])
    case(f"{op} broadcast row", op, f, [mk(4, 3), mk(3)])
    case(f"{op} broadcast both", op, f, [mk(4, 1, 3), mk(2, 1)])
    case(f"{op} 0-d", op, f, [mk(2, 3), mk()])
case("pow positive base", "pow", torch.pow, [pos(3, 4), rnd(3, 4)])
case("pow broadcast exponent", "pow", torch.pow, [pos(2, 3), rnd(1, 3)])

# ---- element-wise unary
for op, f, mk in [
    ("neg", torch.neg, rnd), ("exp", torch.exp, rnd), ("log", torch.log, pos), ("sqrt", torch.sqrt, pos),
    ("abs", torch.abs, rnd), ("relu", torch.relu, rnd), ("sigmoid", torch.sigmoid, rnd),
    ("tanh", torch.tanh, rnd), ("sign", torch.sign, rnd), ("erf", torch.erf, lambda *s: rnd(*s, lo=-4.0, hi=4.0)),
]:
    case(f"{op}", op, f, [mk(3, 4)])
    case(f"{op} 0-d", op, f, [mk()])
case("sigmoid extreme", "sigmoid", torch.sigmoid, [torch.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=D)])
case("tanh extreme", "tanh", torch.tanh, [torch.tensor([-1000.0, -5.0, 0.0, 5.0, 1000.0], dtype=D)])
case("clamp", "clamp", lambda x: torch.clamp(x, -0.5, 0.7), [rnd(3, 4)], {"min": -0.5, "max": 0.7})
case("clamp min only", "clamp", lambda x: torch.clamp(x, min=0.1), [rnd(5)], {"min": 0.1})

# ---- comparisons and where
for op, f in [("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)]:
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=D)
    b = torch.tensor([2.0, 2.0, 7.0], dtype=D)
    case(op, op, f, [a, b], differentiable=False)
cond = rnd(3, 4) > 0
case("where", "where", torch.where, [cond, rnd(3, 4), rnd(4)])
case("where 0-d branch", "where", torch.where, [cond, rnd(3, 4), rnd()])

# ---- reductions
x = rnd(3, 4, 5)
for axes in [None, 0, 1, 2, [0, 2], -1]:
    for keep in [False, True]:
        if axes is None and keep:
            continue
        dims = axes if axes is not None else None
        case(f"sum axis={axes} keepdim={keep}", "sum", (lambda t, d=dims, k=keep: t.sum() if d is None else t.sum(dim=d, keepdim=k)), [x], {"axis": axes, "keepdim": keep})
        case(f"mean axis={axes} keepdim={keep}", "mean", (lambda t, d=dims, k=keep: t.mean() if d is None else t.mean(dim=d, keepdim=k)), [x], {"axis": axes, "keepdim": keep})
        case(f"amax axis={axes} keepdim={keep}", "amax", (lambda t, d=dims, k=keep: t.amax() if d is None else t.amax(dim=d, keepdim=k)), [x], {"axis": axes, "keepdim": keep})
        case(f"amin axis={axes} keepdim={keep}", "amin", (lambda t, d=dims, k=keep: t.amin() if d is None else t.amin(dim=d, keepdim=k)), [x], {"axis": axes, "keepdim": keep})
        case(f"logsumexp axis={axes} keepdim={keep}", "logsumexp", (lambda t, d=dims, k=keep: torch.logsumexp(t, dim=list(range(t.dim())) if d is None else d, keepdim=k)), [x], {"axis": axes, "keepdim": keep})
        case(f"var axis={axes} keepdim={keep}", "var", (lambda t, d=dims, k=keep: t.var() if d is None else t.var(dim=d, keepdim=k)), [x], {"axis": axes, "keepdim": keep})
case("amax ties share the gradient", "amax", lambda t: t.amax(dim=1), [torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype=D)], {"axis": 1, "keepdim": False})
case("var population", "var", lambda t: t.var(dim=1, unbiased=False), [rnd(3, 4)], {"axis": 1, "keepdim": False, "correction": 0})
case("logsumexp large", "logsumexp", lambda t: torch.logsumexp(t, dim=1), [torch.tensor([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -1002.0]], dtype=D)], {"axis": 1, "keepdim": False})
for axis in [0, 1, None]:
    case(f"argmax axis={axis}", "argmax", (lambda t, a=axis: t.argmax() if a is None else t.argmax(dim=a)), [rnd(4, 5)], {"axis": axis}, differentiable=False)
    case(f"argmin axis={axis}", "argmin", (lambda t, a=axis: t.argmin() if a is None else t.argmin(dim=a)), [rnd(4, 5)], {"axis": axis}, differentiable=False)

# ---- matmul
case("matmul 2-D", "matmul", torch.matmul, [rnd(3, 4), rnd(4, 5)])
case("matmul batched broadcast", "matmul", torch.matmul, [rnd(2, 1, 3, 4), rnd(3, 4, 2)])
case("matmul vector-matrix", "matmul", torch.matmul, [rnd(4), rnd(4, 3)])
case("matmul matrix-vector", "matmul", torch.matmul, [rnd(3, 4), rnd(4)])
case("matmul vector-vector", "matmul", torch.matmul, [rnd(4), rnd(4)])
case("matmul batched-vector", "matmul", torch.matmul, [rnd(2, 3, 4), rnd(4)])

# ---- shape ops
case("reshape", "reshape", lambda t: t.reshape(4, -1), [rnd(2, 3, 2)], {"shape": [4, -1]})
case("permute", "permute", lambda t: t.permute(2, 0, 1), [rnd(2, 3, 4)], {"dims": [2, 0, 1]})
case("transpose", "transpose", lambda t: t.transpose(0, 1), [rnd(3, 4)], {"a": 0, "b": 1})
case("expand", "expand", lambda t: t.expand(2, 3, 4), [rnd(3, 1)], {"shape": [2, 3, 4]})
case("slice step", "slice", lambda t: t[:, 1:5:2], [rnd(3, 6)], {"axis": 1, "start": 1, "end": 5, "step": 2})
case("slice negative", "slice", lambda t: t[-2:], [rnd(4, 2)], {"axis": 0, "start": -2})
case("narrow", "narrow", lambda t: t.narrow(1, 1, 2), [rnd(3, 4)], {"axis": 1, "start": 1, "length": 2})
case("squeeze", "squeeze", lambda t: t.squeeze(), [rnd(1, 3, 1, 2)], {})
case("unsqueeze", "unsqueeze", lambda t: t.unsqueeze(1), [rnd(3, 2)], {"axis": 1})
case("flatten", "flatten", lambda t: t.flatten(1), [rnd(2, 3, 4)], {"startAxis": 1})
case("concat", "concat", lambda a, b, c: torch.cat([a, b, c], dim=1), [rnd(2, 1), rnd(2, 3), rnd(2, 2)], {"axis": 1})
case("stack", "stack", lambda a, b: torch.stack([a, b], dim=1), [rnd(2, 3), rnd(2, 3)], {"axis": 1})
case("split sum of parts", "split", lambda t: sum((p * (i + 1)).sum() for i, p in enumerate(torch.split(t, 2, dim=0))), [rnd(5, 3)], {"size": 2, "axis": 0})

# ---- indexing
idx = torch.tensor([[0, 2, 1, 0], [1, 1, 0, 2]])
case("gather axis 1", "gather", lambda t, i: torch.gather(t, 1, i), [rnd(2, 3), idx], {"axis": 1})
idx0 = torch.tensor([[0, 1], [2, 0], [2, 2]])
case("gather axis 0", "gather", lambda t, i: torch.gather(t, 0, i), [rnd(3, 2), idx0], {"axis": 0})
case("scatterAdd", "scatterAdd", lambda t, i, s: t.scatter_add(1, i, s), [rnd(2, 3), idx, rnd(2, 4)], {"axis": 1})
sel = torch.tensor([2, 0, 2, 1])
case("indexSelect", "indexSelect", lambda t, i: torch.index_select(t, 0, i), [rnd(3, 2), sel], {"axis": 0})
case("indexAdd", "indexAdd", lambda t, i, s: t.index_add(0, i, s), [rnd(3, 2), sel, rnd(4, 2)], {"axis": 0})
case("oneHot", "oneHot", lambda i: F.one_hot(i, 4).to(D), [torch.tensor([0, 3, 1, 1])], {"numClasses": 4}, differentiable=False)

# ---- softmax family, including |x| = 1000
case("softmax last", "softmax", lambda t: torch.softmax(t, dim=-1), [rnd(3, 5)], {"axis": -1})
case("softmax axis 0", "softmax", lambda t: torch.softmax(t, dim=0), [rnd(3, 5)], {"axis": 0})
case("logSoftmax", "logSoftmax", lambda t: torch.log_softmax(t, dim=-1), [rnd(3, 5)], {"axis": -1})
big = torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]], dtype=D)
case("softmax |x|=1000", "softmax", lambda t: torch.softmax(t, dim=-1), [big], {"axis": -1})
case("logSoftmax |x|=1000", "logSoftmax", lambda t: torch.log_softmax(t, dim=-1), [big], {"axis": -1})


def write(name, payload):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, "w") as f:
        json.dump({"generator": "test/golden/generate.py", "torch": torch.__version__, **payload}, f, indent=0)
    print(f"wrote {path}")


write("ops.json", {"cases": cases})

# ================================================================ nn: activations, losses, norms
cases = []
case("leakyRelu", "leakyRelu", lambda t: F.leaky_relu(t, 0.1), [rnd(3, 4)], {"slope": 0.1})
case("prelu per channel", "prelu", F.prelu, [rnd(2, 3, 4), torch.tensor([0.25, -0.5, 1.5], dtype=D)])
case("prelu shared", "prelu", F.prelu, [rnd(2, 3), torch.tensor([0.3], dtype=D)])
case("elu", "elu", lambda t: F.elu(t, 0.7), [rnd(3, 4, lo=-4.0, hi=4.0)], {"alpha": 0.7})
case("selu", "selu", F.selu, [rnd(3, 4, lo=-4.0, hi=4.0)])
case("gelu exact", "gelu", F.gelu, [rnd(3, 4, lo=-4.0, hi=4.0)], {"approximate": "none"})
case("gelu tanh", "gelu", lambda t: F.gelu(t, approximate="tanh"), [rnd(3, 4, lo=-4.0, hi=4.0)], {"approximate": "tanh"})
case("silu", "silu", F.silu, [rnd(3, 4, lo=-4.0, hi=4.0)])
case("softplus", "softplus", F.softplus, [torch.tensor([-50.0, -3.0, -0.5, 0.0, 0.7, 3.0, 19.0, 21.0, 50.0], dtype=D)], {"beta": 1, "threshold": 20})
case("softplus beta 2 threshold 5", "softplus", lambda t: F.softplus(t, 2.0, 5.0), [rnd(3, 4, lo=-5.0, hi=5.0)], {"beta": 2, "threshold": 5})
case("layerNorm affine", "layerNorm", lambda x, w, b: F.layer_norm(x, [4], w, b), [rnd(3, 4), rnd(4), rnd(4)], {"shape": [4]})
case("layerNorm 2 axes", "layerNorm", lambda x: F.layer_norm(x, [3, 4]), [rnd(2, 3, 4)], {"shape": [3, 4]})
case("linear", "linear", F.linear, [rnd(5, 4), rnd(3, 4), rnd(3)])
y3 = torch.tensor([0, 2, 1, 2, 0])
logits = rnd(5, 3)
cw = torch.tensor([0.2, 1.0, 3.0], dtype=D)
case("crossEntropy", "crossEntropy", lambda x, y: F.cross_entropy(x, y), [logits, y3], {})
case("crossEntropy sum", "crossEntropy", lambda x, y: F.cross_entropy(x, y, reduction="sum"), [logits, y3], {"reduction": "sum"})
case("crossEntropy none", "crossEntropy", lambda x, y: F.cross_entropy(x, y, reduction="none"), [logits, y3], {"reduction": "none"})
case("crossEntropy label smoothing", "crossEntropy", lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1), [logits, y3], {"labelSmoothing": 0.1})
case("crossEntropy class weights", "crossEntropy", lambda x, y, w: F.cross_entropy(x, y, weight=w), [logits, y3, cw], {"weighted": True}, frozen=(2,))
case("crossEntropy weights + smoothing", "crossEntropy", lambda x, y, w: F.cross_entropy(x, y, weight=w, label_smoothing=0.2), [logits, y3, cw], {"weighted": True, "labelSmoothing": 0.2}, frozen=(2,))
case("crossEntropy weights + smoothing none", "crossEntropy", lambda x, y, w: F.cross_entropy(x, y, weight=w, label_smoothing=0.2, reduction="none"), [logits, y3, cw], {"weighted": True, "labelSmoothing": 0.2, "reduction": "none"}, frozen=(2,))
probs = torch.softmax(rnd(5, 3), dim=1)
case("crossEntropy probability targets", "crossEntropy", lambda x, q: F.cross_entropy(x, q), [logits, probs], {}, frozen=(1,))
case("crossEntropy |x|=1000", "crossEntropy", lambda x, y: F.cross_entropy(x, y), [torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], dtype=D), torch.tensor([1, 2])], {})
case("nllLoss weighted", "nllLoss", lambda x, y, w: F.nll_loss(torch.log_softmax(x, 1), y, weight=w), [logits, y3, cw], {"weighted": True}, frozen=(2,))
case("mseLoss", "mseLoss", F.mse_loss, [rnd(4, 3), rnd(4, 3)])
case("l1Loss", "l1Loss", F.l1_loss, [rnd(4, 3), rnd(4, 3)])
case("huberLoss", "huberLoss", lambda a, b: F.huber_loss(a, b, delta=0.5), [rnd(4, 3), rnd(4, 3)], {"delta": 0.5})
case("smoothL1Loss", "smoothL1Loss", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), [rnd(4, 3), rnd(4, 3)], {"beta": 0.5})
bt = (torch.rand(4, 3, dtype=D) > 0.5).to(D)
case("bceWithLogits", "bceWithLogits", F.binary_cross_entropy_with_logits, [rnd(4, 3, lo=-30.0, hi=30.0), bt], frozen=(1,))
case("bceWithLogits weights", "bceWithLogits", lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw), [rnd(4, 3), bt, rnd(4, 3, lo=0.1, hi=2.0), rnd(3, lo=0.5, hi=3.0)], {"weighted": True}, frozen=(1, 2, 3))
bn_x = rnd(6, 3)
rm = torch.zeros(3, dtype=D)
rv = torch.ones(3, dtype=D)
case("batchNorm train", "batchNorm", lambda x, w, b: F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=True, momentum=0.1), [bn_x, rnd(3), rnd(3)], {"training": True})
rm2 = torch.zeros(3, dtype=D)
rv2 = torch.ones(3, dtype=D)
F.batch_norm(bn_x, rm2, rv2, training=True, momentum=0.1)
bn_stats = {"runningMean": enc(rm2), "runningVar": enc(rv2)}
write("nn.json", {"cases": cases, "batchNormRunning": {"input": enc(bn_x), **bn_stats}})

# ================================================================ optimizers and schedulers: 10-step trajectories
X = rnd(8, 4)
Y = rnd(8, 3)
W0 = rnd(3, 4)
B0 = rnd(3)


def trajectory(make_opt, make_sched=None, metrics=None, steps=10, clip=None):
    W = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    opt = make_opt(W, b)
    sched = make_sched(opt) if make_sched else None
    out = []
    for t in range(steps):
        opt.zero_grad()
        loss = ((X @ W.T + b - Y) ** 2).mean()
        loss.backward()
        norm = None
        if clip is not None:
            norm = float(torch.nn.utils.clip_grad_norm_([W, b], clip))
        lrs = [g["lr"] for g in opt.param_groups]
        opt.step()
        if sched is not None:
            if metrics is not None:
                sched.step(metrics[t])
            else:
                sched.step()
        out.append({"W": W.detach().reshape(-1).tolist(), "b": b.detach().tolist(), "lrs": lrs, "loss": float(loss), "norm": norm})
    return out


O = torch.optim
configs = {
    "sgd": (lambda W, b: O.SGD([W, b], lr=0.1), None),
    "sgd momentum dampening": (lambda W, b: O.SGD([W, b], lr=0.1, momentum=0.9, dampening=0.1), None),
    "sgd nesterov": (lambda W, b: O.SGD([W, b], lr=0.1, momentum=0.9, nesterov=True), None),
    "sgd coupled weight decay": (lambda W, b: O.SGD([W, b], lr=0.1, momentum=0.9, weight_decay=0.1), None),
    "sgd groups bias not decayed": (lambda W, b: O.SGD([{"params": [W], "weight_decay": 0.3}, {"params": [b], "weight_decay": 0.0, "lr": 0.05}], lr=0.1, momentum=0.5), None),
    "adam": (lambda W, b: O.Adam([W, b], lr=0.01), None),
    "adam amsgrad coupled decay": (lambda W, b: O.Adam([W, b], lr=0.01, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.99)), None),
    "adamw decoupled": (lambda W, b: O.AdamW([W, b], lr=0.01, weight_decay=0.1), None),
    "adamw groups bias not decayed": (lambda W, b: O.AdamW([{"params": [W], "weight_decay": 0.5}, {"params": [b], "weight_decay": 0.0}], lr=0.02), None),
    "adamw amsgrad": (lambda W, b: O.AdamW([W, b], lr=0.01, weight_decay=0.05, amsgrad=True), None),
    "rmsprop": (lambda W, b: O.RMSprop([W, b], lr=0.01), None),
    "rmsprop centered momentum decay": (lambda W, b: O.RMSprop([W, b], lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, alpha=0.9), None),
    "adagrad": (lambda W, b: O.Adagrad([W, b], lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1), None),
}
sgdm = lambda W, b: O.SGD([W, b], lr=0.1, momentum=0.9)
scheds = {
    "StepLR": (sgdm, lambda o: O.lr_scheduler.StepLR(o, 3, 0.5), None),
    "MultiStepLR": (sgdm, lambda o: O.lr_scheduler.MultiStepLR(o, [2, 5], 0.1), None),
    "ExponentialLR": (sgdm, lambda o: O.lr_scheduler.ExponentialLR(o, 0.9), None),
    "CosineAnnealingLR": (sgdm, lambda o: O.lr_scheduler.CosineAnnealingLR(o, 10, 0.001), None),
    "LinearLR": (sgdm, lambda o: O.lr_scheduler.LinearLR(o, 0.25, 1.0, 4), None),
    "OneCycleLR": (sgdm, lambda o: O.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=10), None),
    "OneCycleLR adam": (lambda W, b: O.Adam([W, b], lr=0.01), lambda o: O.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=10, pct_start=0.4), None),
    "ReduceLROnPlateau": (sgdm, lambda o: O.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=1), [1, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7, 0.8, 0.9]),
}
optim_out = {"X": enc(X), "Y": enc(Y), "W0": enc(W0), "b0": enc(B0), "optimizers": {}, "schedulers": {}}
for name, (mk, _) in configs.items():
    optim_out["optimizers"][name] = trajectory(mk)
for name, (mk, ms, metrics) in scheds.items():
    optim_out["schedulers"][name] = trajectory(mk, ms, metrics)
optim_out["clip"] = trajectory(lambda W, b: O.SGD([W, b], lr=0.1), clip=0.5)
write("optim.json", optim_out)
