#!/usr/bin/env bash
# The committed CPU demo of the LLM track (see docs/llm_track.md). Two shards run in parallel, one
# per task, each on one torch thread; every run resumes if the script is started again.
#   bash results/llm/run_demo.sh
# writes results/llm/{evals,train_logs,table.*}; checkpoints go to results/runs/llm (not committed)
# Override the model for a smoke test: MODEL=tiny OUT=/tmp/demo bash results/llm/run_demo.sh
set -euo pipefail
export HF_HUB_OFFLINE=1
MODEL=${MODEL:-smollm2-135m}
OUT=${OUT:-results/llm}
RUNS=${RUNS:-results/runs/llm}
STEPS=${STEPS:-3}
SEEDS=${SEEDS:-"0 1"}
TRAIN="--model $MODEL --steps $STEPS --prompts-per-step 2 --group-size 8 --max-new-tokens 16 --lr 5e-5 --trainable-layers 6 --checkpoint-every 4 --threads 1"
EVAL="--k 8 --prompts 8 --max-new-tokens 16 --threads 1"

source "$(dirname "$0")/demo_methods.sh"  # METHODS and method_args

shard() {  # one task: the untrained model, then every method for each seed
  local task=$1
  [ -f "$OUT/evals/$task/base/manifest.json" ] ||
    ladbench llm eval "$MODEL" --task "$task" $EVAL --out "$OUT/evals/$task/base"
  for seed in $SEEDS; do
    for name in $METHODS; do
      local run="$RUNS/$task/$name-s$seed"
      ladbench llm train $(method_args "$name") --task "$task" --seed "$seed" $TRAIN --out "$run"
      mkdir -p "$OUT/train_logs/$task/$name-s$seed"
      cp "$run/manifest.json" "$run/metrics.jsonl" "$OUT/train_logs/$task/$name-s$seed/"
      [ -f "$OUT/evals/$task/$name-s$seed/manifest.json" ] ||
        ladbench llm eval "$run" --task "$task" $EVAL --out "$OUT/evals/$task/$name-s$seed"
    done
  done
}

mkdir -p "$OUT"
start=$(date +%s)
shard basic_arithmetic > "$OUT/demo_basic_arithmetic.log" 2>&1 &
first=$!
shard between > "$OUT/demo_between.log" 2>&1
wait "$first"
ladbench llm table "$OUT"/evals/*/* --out "$OUT"
echo "demo wall time: $(( $(date +%s) - start )) s" | tee "$OUT/wall_time.txt"
