#!/usr/bin/env bash
# The low-rank measurement of docs/compress.md: the wide MNIST-1D MLP 40 -> 1024x3 -> 10 on the
# official data (Benchmarks/lowrank/make_mnist1d.py), trained as examples/lowrank-mnist1d-wide.json;
# `swtrain lowrank` at energy 0.9 and rank 128/64/32: parameters, test accuracy one-shot and after
# one epoch of fine-tuning (40 steps of 100), `swtrain bench infer` at batch 256 (1 thread) dense
# vs factorized; then torch_lowrank.py on the same checkpoint and data.
#
#   swift build -c release --product swtrain && Benchmarks/lowrank/run.sh [OUT=runs/lowrank-bench]
set -eu
SW=${SWTRAIN:-.build/release/swtrain}
OUT=${1:-runs/lowrank-bench}
CFG=examples/lowrank-mnist1d-wide.json D=runs/mnist1d-official RUN=runs/mnist1d-wide-official
mkdir -p "$OUT"
[ -f $D/train_x.npy ] || python3 Benchmarks/lowrank/make_mnist1d.py $D
[ -f $RUN/latest ] || "$SW" train $CFG > "$OUT/dense-train.log" 2>&1
acc() { sed -n 's/.*accuracy \([0-9.]*\).*/\1/p'; }
echo "case,params,acc_oneshot,acc_finetuned,ms_b256_dense,ms_b256_lowrank,speedup" > "$OUT/summary.csv"
echo "dense,$(python3 -c "
import json, struct, sys, math
f = open(sys.argv[1], 'rb'); h = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))
print(sum(math.prod(v['shape']) for k, v in h.items() if k != '__metadata__'))" "$RUN/$(cat $RUN/latest)/model.safetensors"),$("$SW" eval $CFG --checkpoint $RUN | acc),,," >> "$OUT/summary.csv"
for rule in "--energy 0.9" "--rank 128" "--rank 64" "--rank 32"; do
  name=$(echo "$rule" | tr -d ' -'); dir="$OUT/$name"
  "$SW" lowrank $CFG --checkpoint $RUN --out "$dir" $rule --batch 256 > "$dir.log"
  one=$("$SW" eval "$dir/config.json" --checkpoint "$dir" | acc)
  rm -rf "$dir/finetune"
  "$SW" train "$dir/config.json" --set training.max_steps=40 --set training.eval_every_steps=40 > "$dir-finetune.log" 2>&1
  ft=$("$SW" eval "$dir/config.json" --checkpoint "$dir/finetune" | acc)
  "$SW" bench infer $CFG --checkpoint $RUN --compare "$dir" --batch 256 --json > "$dir-bench.jsonl" 2>/dev/null
  python3 - "$dir" "$name" "$one" "$ft" >> "$OUT/summary.csv" <<'PY'
import json, sys
d, name, one, ft = sys.argv[1:5]
p = json.load(open(d + "/compression.json"))["after"]["parameters"]
rows = [json.loads(l) for l in open(d + "-bench.jsonl") if l.strip()]
r = rows[-1]
ours, peer = float(r["median_ms"]), float(r["peer_median_ms"])
print(",".join(map(str, [name, p, one, ft, round(peer, 3), round(ours, 3), round(peer / ours, 2)])))
PY
done
cat "$OUT/summary.csv"
python3 Benchmarks/peer/torch_lowrank.py $CFG --weights "$RUN/$(cat $RUN/latest)/model.safetensors" \
  --train-x $D/train_x.npy --train-y $D/train_y.npy --test-x $D/test_x.npy --test-y $D/test_y.npy \
  --rank 128 64 32 --energy 0.9 --finetune-steps 40 | tee "$OUT/torch.jsonl"
