#!/usr/bin/env bash
# Whole training runs, swtrain against PyTorch, side by side in one run: the same four models
# (examples/quickstart.json MNIST-1D MLP, mnist1d-cnn.json, mnist1d-wide.json MLP 3x1024,
# charlm.json char GPT), global batch 128, the configs' Adam / AdamW, one process (2 threads
# each: swtrain's default, torch.set_num_threads(2)) and np=2 (swtrain under mpirun, one
# thread per rank; PyTorch DDP with gloo under torchrun, one thread per rank). Each case runs
# PAIRS alternating pairs (swtrain, then torch); the table gives medians of training
# throughput (samples/s: swtrain's metrics windows after the first, torch's loop after its
# warm-up), of the ratio swtrain / torch over the pairs, and of the peak RSS of the largest
# process (/usr/bin/time). PyTorch trains on in-memory data of the same shapes
# (Benchmarks/peer/torch_train.py); swtrain on its own data (MNIST-1D generated, licence text).
#
#   Benchmarks/peer/whole_run.sh            # PAIRS=3, steps per model below
#   PAIRS=5 SCALE=4 Benchmarks/peer/whole_run.sh   # more pairs, 4x the steps
#   ONLY=charlm.json PAIRS=1 Benchmarks/peer/whole_run.sh   # one model
#   STEPS="mnist1d-wide.json=40 charlm.json=6" Benchmarks/peer/whole_run.sh   # other step counts
#   RESULTS=all.jsonl Benchmarks/peer/whole_run.sh   # append the pairs to a file; the table is of all its pairs
#
# Needs a release build (swift build -c release; SWTRAIN_BIN overrides), data/licenses.txt
# (launch/setup), torch.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bin="${SWTRAIN_BIN:-$(swift build -c release --show-bin-path)/swtrain}"
[ -x "$bin" ] || { echo "whole_run.sh: no release build at $bin (swift build -c release)" >&2; exit 1; }
pairs=${PAIRS:-3}; scale=${SCALE:-1}
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader
cases=("quickstart.json 400" "mnist1d-cnn.json 400" "mnist1d-wide.json 150" "charlm.json 12")

swtrain_run() {  # config steps np tag
    local cfg=$1 steps=$2 np=$3 tag=$4 log=$(( $2 / 6 > 0 ? $2 / 6 : 1 ))
    local args=(train "examples/$cfg" --set training.batch_size=128 --set "training.max_steps=$steps"
        --set "training.log_every_steps=$log" --set training.eval_every_steps=1000000
        --set checkpoint.every_steps=1000000 --set "checkpoint.dir=$out/$tag")
    [ "$cfg" = charlm.json ] && args+=(--set schedule.warmup_steps=1)
    if [ "$np" = 1 ]; then
        /usr/bin/time -f %M -o "$out/$tag.rss" "$bin" "${args[@]}" > /dev/null 2>&1
    else
        /usr/bin/time -f %M -o "$out/$tag.rss" mpirun --allow-run-as-root --oversubscribe -np "$np" \
            -x OMPI_MCA_pml -x OMPI_MCA_btl "$bin" "${args[@]}" > /dev/null 2>&1
    fi
    python3 - "$out/$tag/metrics.jsonl" "$out/$tag.rss" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sps = [r["samples_per_sec"] for r in rows if r.get("event") == "train"][1:]
print(json.dumps({"samples_per_sec": statistics.median(sps), "rss_kb": int(open(sys.argv[2]).read().split()[-1])}))
PY
}

torch_run() {  # config steps np tag
    local cfg=$1 steps=$2 np=$3 tag=$4 j
    if [ "$np" = 1 ]; then
        j=$(/usr/bin/time -f %M -o "$out/$tag.rss" python3 Benchmarks/peer/torch_train.py "examples/$cfg" --steps "$steps" --threads 2 2>/dev/null)
    else
        j=$(OMP_NUM_THREADS=1 /usr/bin/time -f %M -o "$out/$tag.rss" torchrun --standalone --nproc_per_node "$np" \
            Benchmarks/peer/torch_train.py "examples/$cfg" --steps "$steps" --threads 1 2>/dev/null)
    fi
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(json.dumps({"samples_per_sec": j["samples_per_sec"], "rss_kb": int(open(sys.argv[2]).read().split()[-1])}))' "$j" "$out/$tag.rss"
}

results="${RESULTS:-$out/results.jsonl}"
for c in "${cases[@]}"; do
    read -r cfg steps <<< "$c"
    for o in ${STEPS:-}; do [ "${o%%=*}" = "$cfg" ] && steps=${o#*=}; done
    [ -n "${ONLY:-}" ] && [ "$ONLY" != "$cfg" ] && continue
    steps=$(( steps * scale ))
    for np in 1 2; do
        for p in $(seq 1 "$pairs"); do
            s=$(swtrain_run "$cfg" "$steps" "$np" "sw-$cfg-$np-$p")
            t=$(torch_run "$cfg" "$steps" "$np" "pt-$cfg-$np-$p")
            echo "{\"case\": \"$cfg\", \"np\": $np, \"pair\": $p, \"swtrain\": $s, \"torch\": $t}" | tee -a "$results" >&2
        done
    done
done
python3 - "$results" "$pairs" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = {"quickstart.json": "MNIST-1D MLP", "mnist1d-cnn.json": "MNIST-1D CNN", "mnist1d-wide.json": "MLP 3x1024", "charlm.json": "char GPT 4x128"}
print(f"| model | ranks | swtrain samples/s | PyTorch samples/s | ratio (median of {sys.argv[2]} pairs) | peak RSS swtrain | peak RSS PyTorch |")
print("|---|---|---|---|---|---|---|")
for case in names:
    for np in (1, 2):
        rs = [r for r in rows if r["case"] == case and r["np"] == np]
        if not rs: continue
        med = lambda f: statistics.median(f(r) for r in rs)
        print(f"| {names[case]} | {'one process' if np == 1 else 'np=2'} | {med(lambda r: r['swtrain']['samples_per_sec']):.0f} | "
              f"{med(lambda r: r['torch']['samples_per_sec']):.0f} | "
              f"{med(lambda r: r['swtrain']['samples_per_sec'] / r['torch']['samples_per_sec']):.2f}x | "
              f"{med(lambda r: r['swtrain']['rss_kb']) / 1024:.0f} MB | {med(lambda r: r['torch']['rss_kb']) / 1024:.0f} MB |")
PY
