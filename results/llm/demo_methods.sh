# The four methods both CPU demos train, as `ladbench llm train` options (sourced by run_demo.sh
# and run_code_demo.sh).
METHODS="grpo lad-js flowrl entropy_pg"

method_args() {  # name -> ladbench llm train options
  case "$1" in
    grpo) echo "--method grpo" ;;
    lad-js) echo "--method lad --divergence js --eta 0.25" ;;
    flowrl) echo "--method flowrl" ;;
    entropy_pg) echo "--method entropy_pg" ;;
  esac
}
