#!/usr/bin/env python3
"""PyTorch side of swtrain's low-rank measurement (see docs/compress.md).

From the same dense checkpoint (swtrain's model.safetensors, loaded strictly into the torch
model of the config) and the same .npy data: every nn.Linear factorized by torch.linalg.svd
into nn.Sequential(nn.Linear(in, r, bias=False), nn.Linear(r, out)) with the balanced split
swtrain uses (up = U_r sqrt(S_r), down = sqrt(S_r) V_r^T), only where r (in + out) < in * out,
r fixed or the smallest keeping --energy of the squared singular values; test accuracy
one-shot and after --finetune-steps Adam steps of the config's batch size and lr.

    python3 Benchmarks/peer/torch_lowrank.py examples/lowrank-mnist1d-wide.json --weights model.safetensors \
        --train-x tx.npy --train-y ty.npy --test-x x.npy --test-y y.npy --rank 128 64 32 --energy 0.9 --finetune-steps 40

One JSON line per case. Needs torch and numpy; never used by the tests.
"""
import argparse, copy, json, os, sys
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_prune import accuracy, load_npy, model_for, read_safetensors  # noqa: E402
from torch_distill import fit  # noqa: E402


def factorize(lin, rank=None, energy=None):
    """The Sequential replacing `lin` (or `lin` itself when it does not save), and the rank kept."""
    w = lin.weight.detach()
    u, s, vh = torch.linalg.svd(w, full_matrices=False)
    if rank is not None:
        r = min(rank, len(s))
    else:
        sq = s.double() ** 2
        r = int(torch.searchsorted(torch.cumsum(sq, 0), energy * sq.sum() * (1 - 1e-12)).item()) + 1
        r = min(r, len(s))
    out_f, in_f = w.shape
    if r * (in_f + out_f) >= in_f * out_f:
        return lin, None
    root = s[:r].sqrt()
    down = nn.Linear(in_f, r, bias=False)
    up = nn.Linear(r, out_f, bias=lin.bias is not None)
    with torch.no_grad():
        down.weight.copy_(root[:, None] * vh[:r])
        up.weight.copy_(u[:, :r] * root[None, :])
        if lin.bias is not None:
            up.bias.copy_(lin.bias)
    return nn.Sequential(down, up), r


def compressed(net, **rule):
    out, ranks = [], []
    for m in net:
        if isinstance(m, nn.Linear):
            m, r = factorize(m, **rule)
            ranks.append(r)
        out.append(m)
    return nn.Sequential(*out), ranks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--train-x", required=True); ap.add_argument("--train-y", required=True)
    ap.add_argument("--test-x", required=True); ap.add_argument("--test-y", required=True)
    ap.add_argument("--rank", type=int, nargs="*", default=[128, 64, 32])
    ap.add_argument("--energy", type=float, nargs="*", default=[0.9])
    ap.add_argument("--finetune-steps", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg, net = model_for(a.config)
    net.load_state_dict(read_safetensors(a.weights), strict=True)
    shape = list(cfg["model"]["input"])
    x, y = load_npy(a.train_x, a.train_y)
    tx, ty = load_npy(a.test_x, a.test_y)
    x, tx = x.reshape(len(x), *shape), tx.reshape(len(tx), *shape)
    params = lambda m: sum(p.numel() for p in m.parameters())
    print(json.dumps({"case": "dense", "parameters": params(net), "test_accuracy": round(accuracy(net, tx, ty), 6)}), flush=True)
    cases = [("energy-%g" % e, {"energy": e}) for e in a.energy] + [("rank-%d" % r, {"rank": r}) for r in a.rank]
    for name, rule in cases:
        c, ranks = compressed(copy.deepcopy(net), **rule)
        one = accuracy(c, tx, ty)
        torch.manual_seed(a.seed)
        ft = accuracy(fit(cfg, c, x, y, a.finetune_steps, a.seed), tx, ty)
        print(json.dumps({"case": name, "ranks": ranks, "parameters": params(c), "test_accuracy_oneshot": round(one, 6),
                          "finetune_steps": a.finetune_steps, "test_accuracy_finetuned": round(ft, 6)}), flush=True)


if __name__ == "__main__":
    main()
