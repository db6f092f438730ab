"""The prompt template.

With a chat template (SmolLM2-Instruct has one) a prompt is the two-message conversation

    system: <the task's system message, e.g. "Answer with only the final answer.">
    user:   <question>

rendered by ``tokenizer.apply_chat_template(..., add_generation_prompt=True)``; the short system
message replaces SmolLM2's long default one. A tokenizer without a chat template (the tiny test
model) gets the plain ``"Question: <question>\\nAnswer:"``.
"""

from __future__ import annotations


def render_prompt(tokenizer, question: str, system_message: str) -> str:
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": system_message}, {"role": "user", "content": question}]
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return f"Question: {question}\nAnswer:"
