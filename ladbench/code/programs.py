"""From a model's completion to a program, and a program's canonical form.

``extract_program``: if the completion holds a fenced code block (```python ... ``` or ``` ... ```;
an unclosed last block, as in a reply cut off by the token limit, counts) that defines the entry
point, the program is the prompt's other top-level statements (its imports, such as HumanEval's
``from typing import List``, and helper functions) followed by that block; otherwise the program
is the prompt followed by the completion (HumanEval's convention: the model continues the
signature and docstring). Anything else, including empty or malformed text, still yields a program: the
sandbox then reports it as an error, which scores 0.

``canonical_program``: the AST with docstrings removed and every name the program binds
(function, argument and variable names) renamed to v0, v1, ... in order of first appearance,
unparsed back to text; None if it does not parse. Two programs that differ only in names,
whitespace, comments or docstrings share a canonical form, so the number of distinct canonical
forms among a prompt's correct programs counts genuinely different solutions.
"""

from __future__ import annotations

import ast
import builtins
import re

FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
MAX_COMPLETION_CHARS = 20_000


def extract_program(prompt: str, entry_point: str, completion: str | None) -> str:
    completion = (completion or "")[:MAX_COMPLETION_CHARS]
    for block in FENCE.findall(completion):
        if re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", block, re.MULTILINE):
            return prompt_context(prompt, entry_point) + block
    return prompt + completion


def prompt_context(prompt: str, entry_point: str) -> str:
    """The prompt's top-level statements other than the entry point's definition, as source."""
    try:
        tree = ast.parse(prompt)
    except (SyntaxError, ValueError):
        return ""
    kept = [node for node in tree.body if not (isinstance(node, ast.FunctionDef) and node.name == entry_point)]
    return "".join(ast.get_source_segment(prompt, node) + "\n" for node in kept)


class _Renamer(ast.NodeTransformer):
    """Rename bound names to v0, v1, ... (builtins and attributes keep their names)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        if name in vars(builtins):
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._name(node.name)
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        node.returns = None
        self.generic_visit(node)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._name(node.id)
        return node


def canonical_program(source: str) -> str | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    tree.body = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    return ast.unparse(_Renamer().visit(tree))
