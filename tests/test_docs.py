"""The project documents itself: no file points outside the repository, and every relative link
in the Markdown documentation resolves to a file of the repository."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|shared/(DESIGN|NOTES|STYLE)\.md|\bDESIGN\.md\b")


def tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / p for p in out.stdout.splitlines() if (ROOT / p).is_file()]


def test_no_file_points_outside_the_repository():
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in tracked() if p.suffix in (".py", ".md", ".yaml", ".toml", ".ipynb")
            for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            if OUTSIDE.search(line)]
    assert not hits, hits


def test_markdown_links_resolve():
    broken = []
    for doc in tracked("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_the_docs_cover_every_spec_key():
    from csatlib.spec import spec_keys

    reference = (ROOT / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    missing = [k for k in spec_keys() if f"`{k}" not in reference]
    assert not missing, f"docs/spec-reference.md does not document {missing}"
