"""Every pointer in the documentation leads somewhere: README.md, docs/*.md, benchmarks/README.md
and the ``--help`` text of every command.

A *repository path* is a word that starts at one of the repository's committed roots
(``ladbench/``, ``tests/``, ``benchmarks/``, ``experiments/``, ``docs/``, ``paper_figures/``,
``results/reference/``, ``results/llm/``, ``.ci/``) or names a top-level file (``README.md``,
``CLAIMS.md``, ``claims.json``, ``pyproject.toml``). Words with placeholders or wildcards
(``<spec>``, ``*``, ``{a,b}``) stand for many paths and are skipped. In markdown the words are
taken from inline code and fenced code blocks (prose and output paths such as ``results/runs/...``
do not start at a committed root); in help texts, from the whole text. Every such path must exist,
and every markdown link or image to a local file must resolve from the file that holds it (a
link's ``#anchor`` to a heading of the markdown file it names).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ladbench.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").glob("*.md")])
REPOSITORY_PATH = re.compile(
    r"(?:(?:ladbench|tests|benchmarks|experiments|docs|paper_figures|\.ci)/|results/(?:reference|llm)(?:/|$))"
    r"[\w./-]*|(?:README\.md|CLAIMS\.md|claims\.json|pyproject\.toml)"
)
PLACEHOLDER = re.compile(r"[<>*{}]|\.\.\.")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
EDGE = "\"'()[],;:`|"  # punctuation around a word in prose, code and help boxes


def repository_paths(text: str) -> set[str]:
    """The repository paths among the words of ``text`` (``test.py::name`` counts as ``test.py``)."""
    paths = set()
    for raw in re.split(r"[\s=]+", text):
        word = raw.strip(EDGE).rstrip(EDGE + ".").split("::")[0]
        if not PLACEHOLDER.search(word) and REPOSITORY_PATH.fullmatch(word):
            paths.add(word.rstrip("/"))
    return paths


def markdown_code(text: str) -> str:
    """The text of every fenced code block and every inline code span of a markdown document."""
    pieces, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif fenced:
            pieces.append(line)
        else:
            pieces.extend(match.group(2) for match in INLINE_CODE.finditer(line))
    return "\n".join(pieces)


def local_links(text: str) -> list[str]:
    """Targets of markdown links and images that are not URLs (``http:``, ``mailto:``), anchors kept."""
    return [target for target in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces to
    hyphens, ``-1``, ``-2``... on repeats."""
    seen: dict[str, int] = {}
    found, fenced = set(), False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)):
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return found


def broken_links(document: Path) -> list[str]:
    """The local links of ``document`` whose file does not exist or whose anchor is not a heading of it."""
    broken = []
    for target in local_links(document.read_text()):
        path, _, anchor = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file.read_text())):
            broken.append(target)
    return broken


def command_paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The argument paths of a command and of every subcommand below it (typer vendors click: duck-typed)."""
    paths = [prefix]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            paths += command_paths(sub, (*prefix, name))
    return paths


def help_texts() -> dict[str, str]:
    """``--help`` of every command and group, rendered wide so that no path is wrapped."""
    runner = CliRunner()
    texts = {}
    for path in command_paths(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "500", "TERMINAL_WIDTH": "500"})
        assert result.exit_code == 0, (path, result.output)
        texts["ladbench " + " ".join(path)] = result.output
    return texts


def missing(paths: set[str]) -> list[str]:
    return sorted(path for path in paths if not (ROOT / path).exists())


def test_the_documents_exist():
    assert (ROOT / "docs").is_dir() and len(DOCUMENTS) >= 3
    for document in DOCUMENTS:
        assert document.is_file(), document


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_repository_path_in_a_document_exists(document):
    paths = repository_paths(markdown_code(document.read_text()))
    assert not missing(paths), f"{document.relative_to(ROOT)} points to missing paths: {missing(paths)}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_local_link_resolves(document):
    broken = broken_links(document)
    assert not broken, f"{document.relative_to(ROOT)} links to missing files or headings: {broken}"


def test_every_repository_path_in_a_help_text_exists():
    texts = help_texts()
    assert {"ladbench ", "ladbench run bandit", "ladbench llm train", "ladbench sweep"} <= set(texts)
    found = {name: repository_paths(text) for name, text in texts.items()}
    assert "docs/families.md" in found["ladbench run bandit"]  # the scan reads what --help prints
    broken = {name: missing(paths) for name, paths in found.items() if missing(paths)}
    assert not broken, f"help texts point to missing paths: {broken}"


def test_the_scanners_find_paths_and_skip_placeholders_and_outputs():
    text = (
        "Run `python benchmarks/no_such.py --out results/runs/x` and see `docs/nope.md`, "
        "`results/reference/paper_bandit.csv`, `tests/test_claims.py::test_x`, `results/<spec>/cells/`, "
        "`paper_figures/paper_bandit_*.png` and `README.md`.\n```bash\nOUT=results/llm/gone STEPS=6 bash x.sh\n```\n"
        "Prose mentions of ladbench/ghost.py are not code. [a](docs/x.md) ![b](../y.png) [c](https://e.org/z.md) "
        "[d](#anchor)"
    )
    assert repository_paths(markdown_code(text)) == {
        "benchmarks/no_such.py",
        "docs/nope.md",
        "results/reference/paper_bandit.csv",
        "tests/test_claims.py",
        "README.md",
        "results/llm/gone",
    }
    assert missing(repository_paths(markdown_code(text))) == [
        "benchmarks/no_such.py",
        "docs/nope.md",
        "results/llm/gone",
    ]
    assert local_links(text) == ["docs/x.md", "../y.png", "#anchor"]
    assert repository_paths("Family option (see docs/families.md).") == {"docs/families.md"}


def test_anchors_follow_githubs_rules_and_a_broken_link_is_found(tmp_path):
    text = "# Title\n## The committed CPU demo (`results/llm/`)\n## Notes\n```\n# not a heading\n```\n## Notes\n"
    assert anchors(text) == {"title", "the-committed-cpu-demo-resultsllm", "notes", "notes-1"}
    (tmp_path / "other.md").write_text("## Here\n")
    document = tmp_path / "doc.md"
    document.write_text(
        text + "[ok](other.md#here) [ok](#notes-1) [bad](other.md#there) [bad](#nowhere) [bad](gone.md)"
    )
    assert broken_links(document) == ["other.md#there", "#nowhere", "gone.md"]


@pytest.mark.parametrize(
    ("document", "lead"),
    [("docs/methods.md", "`group_advantages` ("), ("docs/llm.md", "`--advantage`\n  (")],
)
def test_the_docs_list_every_advantage_estimator(document, lead):
    """The prose lists of estimators name exactly the registered ones (``losses.advantages.ESTIMATORS``)."""
    from ladbench.losses.advantages import ESTIMATORS

    text = (ROOT / document).read_text()
    listed = text[text.index(lead) + len(lead) :].split(")")[0]
    assert re.findall(r"[a-z_]+", listed.replace("over sampled groups", "")) == list(ESTIMATORS)


def sweeps_doc_example() -> tuple[str, str]:
    """The command and the error line of docs/sweeps.md's example of a bad spec."""
    text = (ROOT / "docs" / "sweeps.md").read_text()
    example = re.search(r"```text\n\$ (ladbench sweep .*)\n(ladbench: error: .*)\n```", text)
    assert example, "docs/sweeps.md has no example of a spec's error"
    return example.group(1), example.group(2)


def test_the_sweeps_doc_example_error_is_the_real_message(tmp_path, monkeypatch):
    """The example names the spec's key and every registered loss, as the command prints them."""
    command, shown = sweeps_doc_example()
    spec = command.split()[-1]
    (tmp_path / spec).write_text('seeds = 1\n[fixed]\nsteps = 2\n[axes]\nmethod = ["lad", "ppo"]\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, command.split()[1:])
    assert result.exit_code == 2
    assert result.stderr.strip() == shown


def nesting_removed(text: str) -> str:
    """``text`` without what is inside (...) or [...], the brackets included (remarks, ranges)."""
    kept, depth = [], 0
    for character in text:
        depth += character in "(["
        if depth == 0:
            kept.append(character)
        depth -= depth > 0 and character in ")]"
    return "".join(kept)


def methods_doc_loss_options() -> dict[str, dict[str, str | None]]:
    """docs/methods.md's table of the registered losses: loss -> option -> the default it states
    (None where the table names the option without one)."""
    text = (ROOT / "docs" / "methods.md").read_text()
    section = text.split("## The registered losses\n")[1].split("\n## ")[0]
    table = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        name, _, options = (cell.strip() for cell in line.strip().strip("|").split("|"))
        table[name.strip("`")] = {}
        for item in nesting_removed(options).split(","):
            names, _, value = item.strip().partition("=")
            for option in names.split("/"):
                table[name.strip("`")][option.strip()] = value.split(" or ")[0].strip() or None
    return table


def stated_value(text: str) -> object:
    """A default as the table writes it: "js", None, True, 2e-4."""
    if text.startswith('"'):
        return text.strip('"')
    words = {"None": None, "True": True, "False": False}
    return words[text] if text in words else float(text)


def test_the_methods_doc_table_lists_every_loss_with_its_options_and_defaults():
    from ladbench.losses.registry import LOSSES

    table = methods_doc_loss_options()
    assert set(table) == set(LOSSES)
    for name, listed in table.items():
        defaults = LOSSES[name].options()
        assert set(listed) == set(defaults), (name, sorted(set(listed) ^ set(defaults)))
        for option, value in listed.items():
            if value is not None:
                assert stated_value(value) == defaults[option], (name, option, value, defaults[option])
