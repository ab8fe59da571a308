"""The documentation a newcomer reads renders as written: every code fence is closed, every
heading is a heading (not swallowed by an open fence), every heading the text sends the reader
to exists, and every file it names is in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING = re.compile(r"^(#{1,6}) +(.+?) *#*$")
# `see "Realtime sync" below`, `(README, "With a Prefect server")`, `"Layout" above`
HEADING_REFERENCE = re.compile(r'(?:README, |see )"([^"]+)"|"([^"]+)" (?:below|above)')
FILE_MENTION = re.compile(r"`((?:\.\./)*[\w.-]+(?:/[\w.-]+)+\.(?:md|json|py|yaml|toml))`")


def markdown_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = {ROOT / name for name in listed}
    found |= {path for path in ROOT.glob("*.md")}  # new files not yet committed
    found |= set((ROOT / "docs").glob("*.md")) | set((ROOT / "sandboxes").rglob("README.md"))
    return sorted(path for path in found if path.exists())


def source_headings(text: str) -> list[str]:
    """Headings as the author wrote them: `#` lines outside fences (fences counted by hand)."""
    headings, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            headings.append(match.group(2))
    return headings


def rendered_headings(text: str) -> list[str]:
    """Headings as CommonMark reads them."""
    tokens = MarkdownIt("commonmark").parse(text)
    return [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]


def test_the_readmes_are_found():
    names = {path.relative_to(ROOT).as_posix() for path in markdown_files()}
    assert {"README.md", "sandboxes/tripletex/README.md", "sandboxes/svenn/README.md"} <= names


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_fences_are_balanced_and_every_heading_renders(path: Path):
    text = path.read_text()
    fences = [n for n, line in enumerate(text.splitlines(), 1) if FENCE.match(line)]
    assert len(fences) % 2 == 0, f"{path.name}: an unclosed code fence (fence lines {fences})"
    assert rendered_headings(text) == source_headings(text)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_heading_and_file_the_text_refers_to_exists(path: Path):
    text = path.read_text()
    headings = rendered_headings((ROOT / "README.md").read_text()) + rendered_headings(text)
    for match in HEADING_REFERENCE.finditer(" ".join(text.split())):
        named = match.group(1) or match.group(2)
        assert any(h.startswith(named) for h in headings), f"{path.name}: no heading {named!r}"
    # the Tripletex facts cite files of the public repositories they were read from
    mentions = [] if path.name == "FACTS.md" else FILE_MENTION.findall(text)
    for mention in mentions:
        candidates = [path.parent / mention, ROOT / mention]
        assert any(c.exists() for c in candidates), f"{path.name} names a missing {mention}"
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):  # relative links, images
        assert (path.parent / target).exists(), f"{path.name} links to a missing {target}"


WORKING_NOTES = re.compile(
    r"/work/|/root/|/home/\w+|\bhelpers?\b|\bthe lead\b|\bworktrees?\b", re.I
)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_docs_speak_of_the_project_only(path: Path):
    found = WORKING_NOTES.findall(path.read_text())
    assert not found, f"{path.name} reads like a working note: {found}"


def test_contributing_tells_the_layers_the_quick_loop_and_how_to_add_a_test():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    headings = rendered_headings(text)
    assert {"The layers", "The quick loop", "Adding a test"} <= set(headings)
