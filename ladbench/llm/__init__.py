"""The LLM track: a small Hugging Face causal LM trained with the shared losses on math and code tasks.

Every module here imports transformers lazily (inside functions, through ``deps.require``), so
``ladbench run bandit`` never needs the ``llm`` extra.
"""
