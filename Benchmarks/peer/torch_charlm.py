#!/usr/bin/env python3
"""PyTorch peer for examples/charlm.json: the same nanoGPT-style character model (token +
position embedding, 4 pre-norm blocks of width 128 with 4 heads and a 4x GELU MLP, final
layernorm, linear head over 96 tokens), context 64, batch 128, AdamW, grad clip 1.0, on random
token ids. Prints one JSON line with the median step time and tokens/s. The state-dict names
are those of swtrain's checkpoint (`0.tok.weight`, `1.attn.qkv.weight`, `1.mlp.0.weight`, ...).

    python3 Benchmarks/peer/torch_charlm.py [--steps 30] [--threads 1] [--sdpa] [--autocast]
--autocast runs forward and loss under torch.autocast("cpu", dtype=torch.bfloat16) (bf16 mixed precision).
--sdpa uses F.scaled_dot_product_attention (is_causal) instead of the explicit masked softmax.
Optional: needs torch. Never used by the tests.
"""
import argparse, json, math, statistics, time
import torch
import torch.nn.functional as F
from torch import nn

V, T, C, H, LAYERS = 96, 64, 128, 4, 4


class Emb(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(V, C), nn.Embedding(T, C)

    def forward(self, x):
        return self.tok(x) + self.pos(torch.arange(x.shape[1]))


class CausalSelfAttention(nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.qkv, self.proj, self.sdpa = nn.Linear(C, 3 * C), nn.Linear(C, C), sdpa
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)), persistent=False)

    def forward(self, x):
        B, t, _ = x.shape
        q, k, v = (z.view(B, t, H, C // H).transpose(1, 2) for z in self.qkv(x).split(C, dim=2))
        if self.sdpa:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
            o = s.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(-1) @ v
        return self.proj(o.transpose(1, 2).reshape(B, t, C))


class Block(nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(C), CausalSelfAttention(sdpa), nn.LayerNorm(C)
        self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sdpa", action="store_true")
    ap.add_argument("--autocast", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = nn.Sequential(Emb(), *[Block(a.sdpa) for _ in range(LAYERS)], nn.LayerNorm(C), nn.Linear(C, V))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, betas=(0.9, 0.99), weight_decay=0.01)
    data = torch.randint(0, V, (4096, T + 1))
    times = []
    for step in range(a.steps + 5):
        i = torch.randint(0, 4096, (a.batch,))
        x, y = data[i, :T], data[i, 1:]
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            loss = F.cross_entropy(net(x).view(-1, V), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if step >= 5:
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(json.dumps({"peer": f"torch {torch.__version__}", "case": "charlm" + ("-sdpa" if a.sdpa else ""),
                      "batch": a.batch, "threads": a.threads, "precision": "bf16-autocast" if a.autocast else "fp32", "params": sum(p.numel() for p in net.parameters()),
                      "median_ms": round(med * 1e3, 2), "tokens_per_sec": round(a.batch * T / med)}))


if __name__ == "__main__":
    main()
