"""The mini-LM track: a small Llama pretrained here on a corpus with a known answer prior
(``corpus``, ``pretrain``), read through the task it was pretrained on (``view``), and evaluated
exactly by teacher forcing (``exact``; ``ladbench llm exact``: ``command``). See docs/llm.md."""
