# docs/monitor.md, "Overhead": the step time (median of time_ms over the train lines) with the trace
# alone and with monitor.trace.layers, alternated. Usage: layers.py CONFIG PAIRS
import json, os, re, statistics, subprocess, sys
cfg, pairs = sys.argv[1], int(sys.argv[2])
exe = os.environ.get("SWTRAIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.build/release/swtrain"))
scratch = os.environ.get("SCRATCH", "/tmp/swtrain-monitor-bench")
V = {"trace": ["--set", "monitor.trace.enabled=true"], "layers": ["--set", "monitor.trace.enabled=true", "--set", "monitor.trace.layers=true"]}
def run(v, k):
    d = f"{scratch}/lay-{v}-{k}"; subprocess.run(["rm", "-rf", d])
    r = subprocess.run([exe, "train", cfg, "--plain", "--set", f"checkpoint.dir={d}"] + V[v], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    L = [json.loads(l) for l in open(d + "/metrics.jsonl") if '"train"' in l][1:]
    return statistics.median(sum(l["time_ms"].values()) for l in L)
a, b = [], []
for k in range(pairs):
    for v in (["trace", "layers"] if k % 2 == 0 else ["layers", "trace"]):
        (a if v == "trace" else b).append(run(v, k))
r = [y / x for x, y in zip(a, b)]
print(cfg, "step ms trace", round(statistics.median(a), 4), "trace+layers", round(statistics.median(b), 4), "ratio median", round(statistics.median(r), 3), "range", round(min(r), 2), round(max(r), 2))
