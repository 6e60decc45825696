# Overhead of the monitor (docs/monitor.md, "Overhead"): alternating whole runs (off / default / trace every step) and the
# run's own monitor_ms. Usage: overhead.py CONFIG NP PAIRS
import json, os, re, statistics, subprocess, sys, time
cfg, np_, pairs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
exe = os.environ.get("SWTRAIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.build/release/swtrain"))
scratch = os.environ.get("SCRATCH", "/tmp/swtrain-monitor-bench")
env = dict(os.environ, OMPI_MCA_pml="ob1", OMPI_MCA_btl="self,vader")
variants = {"off": ["--set", "monitor.enabled=false"], "default": [],
            "trace": ["--set", "monitor.trace.enabled=true"]}
def run(name, k):
    d = f"{scratch}/run-{os.path.basename(cfg)}-{np_}-{name}-{k}"
    subprocess.run(["rm", "-rf", d])
    cmd = [exe, "train", cfg, "--plain", "--set", f"checkpoint.dir={d}"] + variants[name]
    if np_ > 1: cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(np_)] + cmd
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    loop = float(re.search(r"done: \d+ steps in ([0-9.]+) s", r.stdout).group(1))
    lines = [json.loads(l) for l in open(d + "/metrics.jsonl") if '"train"' in l]
    step = statistics.median(sum(l["time_ms"].values()) for l in lines[1:])
    mon = [statistics.median(l["ranks"][q]["monitor_ms"] for l in lines[1:]) for q in range(np_)] if "ranks" in lines[-1] else None
    m = re.search(r"trace: (\d+) events .* in (\d+) ms", r.stdout)
    return dict(wall=wall, loop=loop, step=step, mon=mon, merge=(int(m.group(1)), int(m.group(2))) if m else None)
res = {v: [] for v in variants}
for k in range(pairs):
    order = list(variants) if k % 2 == 0 else list(reversed(variants))
    for v in order: res[v].append(run(v, k))
out = {"config": cfg, "np": np_, "pairs": pairs}
for v in ["default", "trace"]:
    ratios = [a["loop"] / b["loop"] for a, b in zip(res[v], res["off"])]
    sr = [a["step"] / b["step"] for a, b in zip(res[v], res["off"])]
    out[v] = dict(step_ratio_median=round(statistics.median(sr), 3), step_ratio_range=[round(min(sr), 2), round(max(sr), 2)], loop_ratio_median=round(statistics.median(ratios), 3), loop_ratio_min=round(min(ratios), 3), loop_ratio_max=round(max(ratios), 3),
                  step_ms=round(statistics.median(r["step"] for r in res[v]), 4),
                  monitor_ms=[round(statistics.median(r["mon"][q] for r in res[v]), 4) for q in range(np_)],
                  merge=res[v][0]["merge"])
    out[v]["monitor_share"] = [round(m / out[v]["step_ms"] * 100, 2) for m in out[v]["monitor_ms"]]
out["off"] = dict(step_ms=round(statistics.median(r["step"] for r in res["off"]), 4), loop_s=[round(r["loop"], 2) for r in res["off"]])
print(json.dumps(out))
