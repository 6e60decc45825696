#!/usr/bin/env python3
"""PyTorch side of swtrain's pruning measurements (see docs/prune.md).

    # Load a structurally pruned folder strictly into the smaller nn.Sequential and evaluate it:
    python3 Benchmarks/peer/torch_prune.py load DIR --test-x x.npy --test-y y.npy

    # The issue's PyTorch recipe on the same data, from the same dense swtrain checkpoint:
    # torch.nn.utils.prune.global_unstructured (L1) at each sparsity + a 1000-step Adam 1e-3
    # fine-tune (masks kept by torch's forward pre-hooks), printing one JSON line per sparsity.
    python3 Benchmarks/peer/torch_prune.py recipe CONFIG.json --weights model.safetensors \
        --train-x tx.npy --train-y ty.npy --test-x x.npy --test-y y.npy --sparsity 0.5 0.8 0.9 0.95

The model is torch_step.py's `build` of the config's `model.layers` (same names and shapes as
swtrain's safetensors). Safetensors are read with a small reader here (F32 only), so only
torch and numpy are needed. Optional: never used by the tests.
"""
import argparse, json, os, struct, sys
import numpy as np
import torch
from torch import nn
import torch.nn.utils.prune as tprune

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step import build  # noqa: E402


def read_safetensors(path):
    """name -> float32 torch tensor, from a safetensors file (F32 tensors only)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {e['dtype']}, this reader handles F32 only")
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy().reshape(e["shape"]))
    return out


def model_for(config_path):
    cfg = json.load(open(config_path))
    net, _ = build(cfg["model"]["layers"], list(cfg["model"]["input"]))
    return cfg, net


def state_dict_names(config_path):
    """The (name, shape) list torch's state_dict has for the config's model (what swtrain's test checks)."""
    _, net = model_for(config_path)
    return [(k, list(v.shape)) for k, v in net.state_dict().items()]


def accuracy(net, x, y, batch=1000):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def load_npy(xp, yp):
    return torch.from_numpy(np.load(xp).astype(np.float32)), torch.from_numpy(np.load(yp).astype(np.int64).reshape(-1))


def cmd_load(a):
    cfg, net = model_for(os.path.join(a.folder, "config.json"))
    sd = read_safetensors(os.path.join(a.folder, "model.safetensors"))
    net.load_state_dict(sd, strict=True)   # raises on any missing, unexpected or mis-shaped tensor
    row = {"folder": a.folder, "loaded_strict": True,
           "tensors": {k: list(v.shape) for k, v in sd.items()},
           "parameters": sum(p.numel() for p in net.parameters())}
    if a.test_x:
        x, y = load_npy(a.test_x, a.test_y)
        row["test_accuracy"] = round(accuracy(net, x.reshape(len(x), *cfg["model"]["input"]), y), 6)
    print(json.dumps(row))


def cmd_recipe(a):
    torch.set_num_threads(a.threads)
    cfg, _ = model_for(a.config)
    shape = cfg["model"]["input"]
    tx, ty = load_npy(a.train_x, a.train_y)
    x, y = load_npy(a.test_x, a.test_y)
    tx, x = tx.reshape(len(tx), *shape), x.reshape(len(x), *shape)
    sd = read_safetensors(a.weights)
    for s in a.sparsity:
        torch.manual_seed(a.seed)
        _, net = model_for(a.config)
        net.load_state_dict(sd, strict=True)
        dense_acc = accuracy(net, x, y)
        params = [(m, "weight") for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]
        tprune.global_unstructured(params, pruning_method=tprune.L1Unstructured, amount=s)
        pruned_acc = accuracy(net, x, y)
        opt = torch.optim.Adam(net.parameters(), lr=a.lr)
        loss_fn = nn.CrossEntropyLoss()
        g = torch.Generator().manual_seed(a.seed)
        net.train()
        for step in range(a.steps):
            idx = torch.randint(0, len(tx), (a.batch,), generator=g)
            opt.zero_grad(set_to_none=True)
            loss_fn(net(tx[idx]), ty[idx]).backward()
            opt.step()
        tuned = accuracy(net, x, y)
        for m, n in params:
            tprune.remove(m, n)
        zeros = sum((m.weight == 0).sum().item() for m, _ in params)
        total = sum(m.weight.numel() for m, _ in params)
        print(json.dumps({"peer": f"torch {torch.__version__}", "recipe": "global_unstructured L1 + Adam fine-tune",
                          "sparsity": s, "weight_sparsity": round(zeros / total, 6), "dense_accuracy": round(dense_acc, 6),
                          "pruned_accuracy": round(pruned_acc, 6), "finetuned_accuracy": round(tuned, 6),
                          "steps": a.steps, "lr": a.lr, "batch": a.batch}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("load")
    l.add_argument("folder")
    l.add_argument("--test-x"); l.add_argument("--test-y")
    r = sub.add_parser("recipe")
    r.add_argument("config")
    r.add_argument("--weights", required=True)
    for k in ("train-x", "train-y", "test-x", "test-y"):
        r.add_argument("--" + k, required=True)
    r.add_argument("--sparsity", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95])
    r.add_argument("--steps", type=int, default=1000)
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--batch", type=int, default=128)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    cmd_load(a) if a.cmd == "load" else cmd_recipe(a)


if __name__ == "__main__":
    main()
