"""ladbench losses with options of your own, registered in verl under names of your choice.

verl imports this module in every worker when the run sets
``actor_rollout_ref.model.external_lib=ladbench_losses`` and the module is importable there (on one
machine: ``PYTHONPATH=$PWD/experiments/verl``, which the Ray workers that verl starts inherit):

    PYTHONPATH=$PWD/experiments/verl python -m verl.trainer.main_ppo \\
        --config-path "$PWD/experiments/verl" --config-name lad_js_gsm \\
        actor_rollout_ref.model.external_lib=ladbench_losses \\
        actor_rollout_ref.actor.policy_loss.loss_mode=ladbench_lad_js_eta025
"""

from ladbench.integrations.verl import policy_loss_fn, register

# the LAD paper's math setting, 1 / eta = 4
register("ladbench_lad_js_eta025", policy_loss_fn("lad", divergence="js", eta=0.25))
register("ladbench_lad_kl_eta025", policy_loss_fn("lad", divergence="kl", eta=0.25))
