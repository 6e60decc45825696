#!/usr/bin/env bash
# The pruning measurement of docs/prune.md: an MLP 256 -> 256 -> 256 -> 10 (ReLU) on 16x16
# digits (Benchmarks/prune/make_digits.py), dense vs global unstructured 50/80/90/95% and
# structured 128/64/32 hidden units, each + a 1000-step Adam 1e-3 fine-tune; parameters,
# bytes, test accuracy, bench infer latency at batch 256 (1 thread); and the PyTorch recipe
# (global_unstructured L1 + the same fine-tune) from the same dense checkpoint on the same data.
#
#   swift build -c release --product swtrain && Benchmarks/prune/run.sh [OUT=runs/prune-bench]
#
# The unstructured folders' config.json carries a `prune` section that keeps their zeros
# exactly zero through the fine-tune (docs/prune-training.md).
set -u
SW=${SWTRAIN:-.build/release/swtrain}
OUT=${1:-runs/prune-bench}
CFG=examples/prune-mlp.json
mkdir -p "$OUT"
[ -f runs/prune-data/train_x.npy ] || python3 Benchmarks/prune/make_digits.py runs/prune-data
[ -f runs/prune-mlp/latest ] || "$SW" train "$CFG" > "$OUT/dense-train.log"
"$SW" eval "$CFG" --checkpoint runs/prune-mlp | tee "$OUT/dense-eval.txt"

finetune() {  # DIR -> fine-tuned test accuracy (or "n/a")
  rm -rf "$1/finetune"
  if "$SW" train "$1/config.json" --set training.max_steps=1000 --set training.eval_every_steps=1000 > "$1/finetune.log" 2>&1; then
    "$SW" eval "$1/config.json" --checkpoint "$1/finetune" | sed -n 's/.*accuracy \([0-9.]*\).*/\1/p'
  else
    echo "n/a"
  fi
}

echo "case,params,non_zeros,file_bytes,acc_oneshot,acc_finetuned,ms_b256_before,ms_b256_after,ratio,kernel" > "$OUT/summary.csv"
row() {  # DIR NAME
  local acc; acc=$(finetune "$1")
  "$SW" bench infer "$CFG" --checkpoint runs/prune-mlp --compare "$1" --batch 256 --json > "$1/bench.jsonl" 2>/dev/null || true
  python3 - "$1" "$2" "$acc" >> "$OUT/summary.csv" <<'PY'
import json, sys
d, name, acc = sys.argv[1:4]
r = json.load(open(d + "/compression.json"))
a, b = r["after"], r["before"]
rows = [json.loads(l) for l in open(d + "/bench.jsonl") if l.strip()]
row = rows[-1] if rows else {}
after_ms = float(row.get("median_ms", a["latency_ms"]["batch_256"])); before_ms = float(row.get("peer_median_ms", b["latency_ms"]["batch_256"]))
print(",".join(map(str, [name, a["parameters"], a["non_zeros"], a["file_bytes"], a["test_accuracy"], acc,
                         round(before_ms, 4), round(after_ms, 4), round(before_ms / after_ms, 3), r["latency"]["kernel"]])))
PY
}
for s in 0.5 0.8 0.9 0.95; do
  "$SW" prune "$CFG" --checkpoint runs/prune-mlp --out "$OUT/s$s" --sparsity "$s" --scope global --batch 1 32 256 > "$OUT/s$s.log"
  row "$OUT/s$s" "global-$s"
done
for u in 128 64 32; do
  "$SW" prune "$CFG" --checkpoint runs/prune-mlp --out "$OUT/u$u" --structured --keep-units "$u" --batch 1 32 256 > "$OUT/u$u.log"
  row "$OUT/u$u" "units-$u"
  python3 Benchmarks/peer/torch_prune.py load "$OUT/u$u" --test-x runs/prune-data/test_x.npy --test-y runs/prune-data/test_y.npy > "$OUT/u$u/torch-load.json"
done
cat "$OUT/summary.csv"
python3 Benchmarks/peer/torch_prune.py recipe "$CFG" --weights "runs/prune-mlp/$(cat runs/prune-mlp/latest)/model.safetensors" \
  --train-x runs/prune-data/train_x.npy --train-y runs/prune-data/train_y.npy \
  --test-x runs/prune-data/test_x.npy --test-y runs/prune-data/test_y.npy | tee "$OUT/torch-recipe.jsonl"
