#!/usr/bin/env python3
"""PyTorch peer for whole training runs (Benchmarks/peer/whole_run.sh).

Trains the torch equivalent of a swtrain config's model (dense / conv / residual stacks built
by torch_step.py's `build`; the char GPT of examples/charlm.json with its dropout) for
`--steps` optimizer steps at global batch `--batch` with the config's Adam / AdamW, on data of
the config's shapes held in memory (MNIST-1D-shaped random samples, or random windows of
data/licenses.txt for the char GPT), then prints one JSON line: training samples/s over the
steps after `--warmup` (rank 0; DDP ranks synchronise through the gradient all-reduce) and the
whole process's wall seconds.

    python3 Benchmarks/peer/torch_train.py CONFIG.json --steps 100 [--threads 2]
    torchrun --nproc_per_node 2 Benchmarks/peer/torch_train.py CONFIG.json   # DDP (gloo)

Optional: needs torch. Never used by the tests.
"""
import argparse, json, math, os, sys, time
START = time.perf_counter()
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step import build  # noqa: E402


class Emb(nn.Module):
    def __init__(self, V, T, C):
        super().__init__()
        self.tok, self.pos = nn.Embedding(V, C), nn.Embedding(T, C)

    def forward(self, x):
        return self.tok(x) + self.pos(torch.arange(x.shape[1]))


class Attention(nn.Module):
    def __init__(self, C, H, T, p):
        super().__init__()
        self.qkv, self.proj, self.H, self.p = nn.Linear(C, 3 * C), nn.Linear(C, C), H, p
        self.drop = nn.Dropout(p)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)), persistent=False)

    def forward(self, x):
        B, t, C = x.shape
        q, k, v = (z.view(B, t, self.H, C // self.H).transpose(1, 2) for z in self.qkv(x).split(C, dim=2))
        s = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.H)
        a = F.dropout(s.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(-1), self.p, self.training)
        return self.drop(self.proj((a @ v).transpose(1, 2).reshape(B, t, C)))


class Block(nn.Module):
    def __init__(self, C, H, T, r, p):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(C), Attention(C, H, T, p), nn.LayerNorm(C)
        self.mlp = nn.Sequential(nn.Linear(C, r * C), nn.GELU(), nn.Linear(r * C, C), *([nn.Dropout(p)] if p > 0 else []))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def gpt(layers, T):
    """The char GPT of a swtrain layer list: token_position_embedding, transformer_block..., layernorm, dense."""
    mods, C = [], None
    for e in layers:
        t = e["type"]
        if t == "token_position_embedding":
            V, C = e["vocab"], e["dim"]; mods.append(Emb(V, T, C))
        elif t == "transformer_block":
            mods.append(Block(C, e["heads"], T, e.get("mlp_ratio", 4), e.get("dropout", 0.0)))
        elif t == "layernorm":
            mods.append(nn.LayerNorm(C))
        elif t == "dense":
            mods.append(nn.Linear(C, e["units"]))
        else:
            raise SystemExit(f"torch_train.py: layer type {t} has no torch equivalent here")
    return nn.Sequential(*mods), V


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("gloo")
    world, rank = (dist.get_world_size(), dist.get_rank()) if distributed else (1, 0)
    cfg = json.load(open(a.config))
    torch.manual_seed(cfg.get("seed", 42) + rank)
    layers, shape = cfg["model"]["layers"], list(cfg["model"]["input"])
    batch = a.batch // world
    if layers[0]["type"] == "token_position_embedding":
        T = shape[0]
        net, V = gpt(layers, T)
        path = os.path.join(os.path.dirname(os.path.abspath(a.config)), cfg["data"]["train"]["path"])
        text = open(path, "rb").read()
        ids = torch.tensor(list(text), dtype=torch.long) % V
        def sample():
            i = torch.randint(0, len(ids) - T - 1, (batch,))
            w = torch.stack([ids[j:j + T + 1] for j in i.tolist()])
            return w[:, :T], w[:, 1:]
        loss_of = lambda out, y: F.cross_entropy(out.reshape(-1, V), y.reshape(-1))
    else:
        net, out_shape = build(layers, shape)
        xs, ys = torch.randn(4000, *shape), torch.randint(0, out_shape[-1], (4000,))
        def sample():
            i = torch.randint(0, 4000, (batch,))
            return xs[i], ys[i]
        loss_of = F.cross_entropy
    if distributed:
        net = nn.parallel.DistributedDataParallel(net)
    o = cfg.get("optimizer", {})
    betas = tuple(o.get("betas", [0.9, 0.999]))
    if o.get("type", "adam") == "adamw":
        opt = torch.optim.AdamW(net.parameters(), lr=o.get("lr", 1e-3), betas=betas, eps=o.get("eps", 1e-8),
                                weight_decay=o.get("weight_decay", 0.01))
    else:
        opt = torch.optim.Adam(net.parameters(), lr=o.get("lr", 1e-3), betas=betas, eps=o.get("eps", 1e-8),
                               weight_decay=o.get("weight_decay", 0))
    clip = cfg.get("training", {}).get("grad_clip")
    net.train()
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            t0 = time.perf_counter()
        x, y = sample()
        opt.zero_grad(set_to_none=True)
        loss = loss_of(net(x), y)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
    train_s = time.perf_counter() - t0
    if rank == 0:
        print(json.dumps({"peer": f"torch {torch.__version__}" + (" DDP gloo" if distributed else ""),
                          "case": os.path.basename(a.config), "ranks": world, "threads": a.threads,
                          "global_batch": batch * world, "steps": a.steps, "loss": round(loss.item(), 4),
                          "samples_per_sec": round(batch * world * a.steps / train_s, 1),
                          "wall_s": round(time.perf_counter() - START, 3)}))
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
