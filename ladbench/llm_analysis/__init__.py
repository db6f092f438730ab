"""The LLM track's analysis (Analysis floor): what the report, ``ladbench llm table`` and the claims
read from LLM results on disk.

    report.py            the LLM sections of ``ladbench report``: diversity at matched accuracy, pass@k crossover
    matched_accuracy.py  a run's matched points: the first evaluated step at each Avg@k threshold
    tables.py            ``ladbench llm table``: each sweep's report, pass@k and training-curve figures
    training_curves.py   the figure of the evaluations during training (Avg@k; diversity against Avg@k)
    pass_at_k_figure.py  the figure of pass@k against k (base model and each trained method)
    minilm.py            a mini-LM sweep's exact table and figures
"""
