# docs/monitor.md, "swtrain autotune": alternating whole runs of the config as written and autotune's choice: samples/s of each run
# ("done: ... samples/s"), median of the per-pair ratios. Usage: alternate.py ORIG TUNED NP PAIRS STEPS [THREADS]
import os, re, statistics, subprocess, sys
orig, tuned, np_, pairs, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
threads = sys.argv[6] if len(sys.argv) > 6 else None
exe = os.environ.get("SWTRAIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.build/release/swtrain"))
scratch = os.environ.get("SCRATCH", "/tmp/swtrain-monitor-bench")
def run(cfg, name, k):
    env = dict(os.environ, OMPI_MCA_pml="ob1", OMPI_MCA_btl="self,vader")
    if name == "tuned" and threads: env["OPENBLAS_NUM_THREADS"] = threads
    d = f"{scratch}/alt-{name}-{k}"
    subprocess.run(["rm", "-rf", d])
    cmd = [exe, "train", cfg, "--plain", "--set", f"checkpoint.dir={d}", "--stop-after", str(steps),
           "--set", "checkpoint.every_steps=0", "--set", "training.eval_every_steps=0"]
    if np_ > 1: cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(np_)] + cmd
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return float(re.search(r"done: \d+ steps in [0-9.]+ s, ([0-9.]+) samples/s", r.stdout).group(1))
a, b = [], []
for k in range(pairs):
    if k % 2 == 0: a.append(run(orig, "orig", k)); b.append(run(tuned, "tuned", k))
    else: b.append(run(tuned, "tuned", k)); a.append(run(orig, "orig", k))
ratios = [y / x for x, y in zip(a, b)]
print(f"orig samples/s {[round(x) for x in a]} tuned {[round(x) for x in b]} ratio median {statistics.median(ratios):.3f} range {min(ratios):.2f}-{max(ratios):.2f}")
