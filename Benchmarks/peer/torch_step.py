#!/usr/bin/env python3
"""PyTorch peer for swtrain step benchmarks.

Builds the torch.nn.Sequential equivalent of a swtrain config's `model` (same layers, same
parameter names and shapes), trains it on random data of the same shape with the config's
optimizer and global batch, and prints one JSON line with the median step time
(forward, loss, backward, optimizer step; data already in memory).

    python3 Benchmarks/peer/torch_step.py CONFIG.json [--steps 200] [--threads 1] [--autocast]
--autocast runs forward and loss under torch.autocast("cpu", dtype=torch.bfloat16) (bf16 mixed precision).
    torchrun --nproc_per_node 2 Benchmarks/peer/torch_step.py CONFIG.json   # DDP (gloo)

Optional: needs `pip install torch`. Never used by the tests.
"""
import argparse, json, os, statistics, time
import torch
import torch.distributed as dist
from torch import nn


class Residual(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        return x + self.layers(x)


def build(layers, shape):
    """torch modules for swtrain layer entries, starting from sample shape `shape`."""
    mods = []
    for e in layers:
        t = e["type"]
        if t == "dense":
            m = nn.Linear(shape[-1], e["units"], bias=e.get("bias", True)); shape = shape[:-1] + [e["units"]]
        elif t in ("conv1d", "conv2d"):
            k, s, p = e["kernel"], e.get("stride", 1), e.get("padding", 0)
            if t == "conv1d":
                m = nn.Conv1d(shape[0], e["channels"], k, s, p, bias=e.get("bias", True))
                shape = [e["channels"], (shape[1] + 2 * p - k) // s + 1]
            else:
                m = nn.Conv2d(shape[0], e["channels"], k, s, p, bias=e.get("bias", True))
                kk = k if isinstance(k, list) else [k, k]; ss = s if isinstance(s, list) else [s, s]; pp = p if isinstance(p, list) else [p, p]
                shape = [e["channels"]] + [(shape[1 + i] + 2 * pp[i] - kk[i]) // ss[i] + 1 for i in range(2)]
        elif t in ("maxpool1d", "avgpool1d"):
            k = e["kernel"]; s = e.get("stride", k); p = e.get("padding", 0)
            m = (nn.MaxPool1d if t[0] == "m" else nn.AvgPool1d)(k, s, p); shape = [shape[0], (shape[1] + 2 * p - k) // s + 1]
        elif t == "relu": m = nn.ReLU()
        elif t == "gelu": m = nn.GELU()
        elif t == "tanh": m = nn.Tanh()
        elif t == "sigmoid": m = nn.Sigmoid()
        elif t == "dropout": m = nn.Dropout(e.get("p", 0.5))
        elif t == "layernorm": m = nn.LayerNorm(shape[-1], eps=e.get("eps", 1e-5))
        elif t == "flatten":
            m = nn.Flatten(); n = 1
            for d in shape: n *= d
            shape = [n]
        elif t == "residual":
            inner, _ = build(e["layers"], shape); m = Residual(inner)
        else:
            raise SystemExit(f"torch_step.py: layer type {t} has no torch equivalent here")
        mods.append(m)
    return nn.Sequential(*mods), shape


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--autocast", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    if distributed:
        dist.init_process_group("gloo")
    world = dist.get_world_size() if distributed else 1
    cfg = json.load(open(a.config))
    torch.manual_seed(cfg.get("seed", 42))
    net, out_shape = build(cfg["model"]["layers"], list(cfg["model"]["input"]))
    if distributed:
        net = nn.parallel.DistributedDataParallel(net)
    o = cfg.get("optimizer", {})
    kind, lr = o.get("type", "adam"), o.get("lr", 1e-3)
    if kind == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=o.get("momentum", 0), weight_decay=o.get("weight_decay", 0))
    elif kind == "adamw":
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=o.get("weight_decay", 0.01))
    else:
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=o.get("weight_decay", 0))
    batch = cfg.get("training", {}).get("batch_size", 128) // world
    x = torch.randn(batch, *cfg["model"]["input"])
    y = torch.randint(0, out_shape[-1], (batch,))
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for step in range(a.steps + a.warmup):
        if distributed:
            dist.barrier()
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    if not distributed or dist.get_rank() == 0:
        print(json.dumps({"peer": f"torch {torch.__version__}" + (" DDP gloo" if distributed else ""),
                          "case": os.path.basename(a.config), "ranks": world, "threads": a.threads,
                          "precision": "bf16-autocast" if a.autocast else "fp32",
                          "global_batch": batch * world, "median_ms": round(med * 1e3, 4),
                          "samples_per_sec": round(batch * world / med)}))
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
