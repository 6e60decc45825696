#!/usr/bin/env python3
"""PyTorch peer for `swtrain` step benchmarks: trains the same model on random data of the same
shape with the same optimizer and batch, and prints one JSON line with the median step time.

    python3 Benchmarks/peer/torch_step.py mlp|cnn|dense1024 [--batch 100] [--steps 2000] [--threads 1]
Optional: needs `pip install torch`. Never used by the tests.
"""
import argparse, json, statistics, time
import torch
from torch import nn


class Residual(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.layers(x)


def model(name):
    if name == "mlp":  # examples/quickstart.json
        return nn.Sequential(nn.Linear(40, 100), nn.ReLU(), Residual(nn.Linear(100, 100), nn.ReLU()), nn.Linear(100, 10)), [40]
    if name == "cnn":  # examples/mnist1d-cnn.json
        return nn.Sequential(nn.Conv1d(1, 25, 5, 2, 1), nn.ReLU(), nn.Conv1d(25, 25, 3, 2, 1), nn.ReLU(),
                             nn.Conv1d(25, 25, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(125, 10)), [1, 40]
    if name == "dense1024":  # three dense layers of width 1024
        return nn.Sequential(nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)), [1024]
    raise SystemExit(f"unknown model {name}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net, shape = model(a.model)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    n = 4000
    xs = torch.randn(n, *shape)
    ys = torch.randint(0, 10, (n,))
    times = []
    for step in range(a.steps + 50):
        i = (step * a.batch) % (n - a.batch)
        x, y = xs[i:i + a.batch], ys[i:i + a.batch]
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        if step >= 50:
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(json.dumps({"peer": f"torch {torch.__version__}", "case": a.model, "batch": a.batch, "threads": a.threads,
                      "median_ms": round(med * 1e3, 4), "samples_per_sec": round(a.batch / med)}))


if __name__ == "__main__":
    main()
