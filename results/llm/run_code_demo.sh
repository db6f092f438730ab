#!/usr/bin/env bash
# The committed CPU demo of the LLM track's code tasks (see docs/llm.md, "Code tasks and the sandbox").
# GRPO, LAD-JS, FlowRL and entropy-PG trained on the generated `code_functions` task (2 seeds),
# each evaluated on held-out code_functions prompts; the base model and the seed-0 runs also on
# all 164 HumanEval problems. Two shards run in parallel, one per seed, each on one torch thread
# (plus the sandbox pool); every step resumes if the script is started again.
#   bash results/llm/run_code_demo.sh
# writes results/llm/code/{evals,train_logs,table.*,wall_time.txt}; checkpoints go to
# results/runs/llm-code (not committed). Smoke test: MODEL=tiny OUT=/tmp/demo RUNS=/tmp/runs STEPS=1 HUMANEVAL_PROMPTS=4 bash ...
set -euo pipefail
export HF_HUB_OFFLINE=1
MODEL=${MODEL:-smollm2-135m}
OUT=${OUT:-results/llm/code}
RUNS=${RUNS:-results/runs/llm-code}
STEPS=${STEPS:-5}
HUMANEVAL_PROMPTS=${HUMANEVAL_PROMPTS:-164}
TASK=code_functions
TRAIN="--model $MODEL --task $TASK --steps $STEPS --prompts-per-step 4 --group-size 4 --max-new-tokens 96 --lr 5e-5 --trainable-layers 6 --checkpoint-every 5 --threads 1"
EVAL="--task $TASK --k 4 --prompts 16 --max-new-tokens 96 --threads 1"
HUMANEVAL="--task humaneval --k 1 --prompts $HUMANEVAL_PROMPTS --max-new-tokens 128 --batch-prompts 16 --threads 1"

source "$(dirname "$0")/demo_methods.sh"  # METHODS and method_args

evaluate() {  # model, output directory, eval options
  [ -f "$2/manifest.json" ] || ladbench llm eval "$1" ${@:3} --out "$2"
}

train_all() {  # every method with one seed, each followed by its held-out code_functions eval
  local seed=$1
  for name in $METHODS; do
    local run="$RUNS/$name-s$seed"
    ladbench llm train $(method_args "$name") --seed "$seed" $TRAIN --out "$run"
    mkdir -p "$OUT/train_logs/$name-s$seed"
    cp "$run/manifest.json" "$run/metrics.jsonl" "$OUT/train_logs/$name-s$seed/"
    evaluate "$run" "$OUT/evals/$TASK/$name-s$seed" $EVAL
  done
}

humaneval_after_training() {  # HumanEval of a seed-0 run, once the other shard has finished it
  local name=$1
  until [ -f "$OUT/evals/$TASK/$name-s0/manifest.json" ]; do sleep 20; done
  evaluate "$RUNS/$name-s0" "$OUT/evals/humaneval/$name-s0" $HUMANEVAL
}

shard0() {
  evaluate "$MODEL" "$OUT/evals/$TASK/base" $EVAL
  train_all 0
  humaneval_after_training grpo
  humaneval_after_training lad-js
}

shard1() {
  evaluate "$MODEL" "$OUT/evals/humaneval/base" $HUMANEVAL
  train_all 1
  humaneval_after_training flowrl
  humaneval_after_training entropy_pg
}

mkdir -p "$OUT"
start=$(date +%s)
shard0 > "$OUT/demo_shard0.log" 2>&1 &
first=$!
shard1 > "$OUT/demo_shard1.log" 2>&1
wait "$first"
ladbench llm table "$OUT"/evals/$TASK/* --out "$OUT/$TASK"
ladbench llm table "$OUT"/evals/humaneval/* --out "$OUT/humaneval"
python benchmarks/llm_time_shares.py "$OUT"/train_logs/*/metrics.jsonl | tee "$OUT/time_shares.txt"
echo "demo wall time: $(( $(date +%s) - start )) s" | tee "$OUT/wall_time.txt"
