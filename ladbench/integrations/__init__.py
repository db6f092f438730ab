"""ladbench's losses inside other trainers: ``ladbench.integrations.verl`` (verl's policy-loss
registry). TRL's plug-in is ``ladbench.llm.trl_plugin``."""
