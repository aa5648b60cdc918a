"""Every relative link and image in README.md and docs/*.md points at something that exists.

Links are parsed from the Markdown (fenced code blocks and inline code are skipped); a `#fragment`
must name a heading of the target file, slugged as GitHub slugs them. http(s) and mailto links are
not followed.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target), with an optional "title"; the text may hold one level of [].
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text lower-cased, punctuation but `-` and `_`
    dropped, each space a `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file, duplicates numbered as GitHub numbers them."""
    seen: dict[str, int] = {}
    result = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def links(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        line = INLINE_CODE.sub(lambda m: "x" * len(m.group(0)), line)  # `[a](b)` is no link
        for pattern in (LINK, HTML):
            for match in pattern.finditer(line):
                found.append((number, match.group(1)))
    return found


def test_the_documents_exist():
    assert (ROOT / "docs" / "format.md").is_file()
    assert (ROOT / "docs" / "reference.md").is_file()
    assert (ROOT / "docs" / "benchmarks.md").is_file()


def test_github_slugs():
    assert github_slug("Backbones: a spec as a block") == "backbones-a-spec-as-a-block"
    assert (
        github_slug("Repeated blocks: `copy` and `repeat_names`")
        == "repeated-blocks-copy-and-repeat_names"
    )
    assert github_slug("keras.applications: VGG and ResNet") == "kerasapplications-vgg-and-resnet"
    assert github_slug("The tutorial's five models") == "the-tutorials-five-models"


def test_links_are_found():
    readme = [target for _, target in links(ROOT / "README.md")]
    assert "docs/format.md" in readme
    assert "#model-zoo" in readme
    assert any(target.startswith("specs/") for target in readme)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path):
    problems = []
    for number, target in links(doc):
        if EXTERNAL.match(target):
            continue
        file_part, _, fragment = target.partition("#")
        destination = (doc.parent / unquote(file_part)).resolve() if file_part else doc
        where = f"{doc.relative_to(ROOT)}:{number}: {target}"
        if not destination.exists():
            problems.append(f"{where}: {file_part} does not exist")
            continue
        if fragment:
            if destination.suffix != ".md" or destination.is_dir():
                problems.append(f"{where}: a fragment on a file that has no headings")
            elif unquote(fragment).lower() not in anchors(destination):
                problems.append(f"{where}: no heading #{fragment} in {destination.name}")
    assert not problems, "\n".join(problems)


def test_every_error_code_is_in_the_readmes_table():
    """README's Error codes table has a row for every code of CODES, in CODES' order (the
    limits E701-E713 share one row), and no other."""
    from archspec.core.errors import CODES

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([EW]\d{3}(?:-E\d{3})?) \|", table, re.M)
    codes = [c for c in CODES if not c.startswith("E7")]
    limits = [c for c in CODES if c.startswith("E7")]
    assert [r for r in rows if not r.startswith("E7")] == codes
    assert rows.count(f"{limits[0]}-{limits[-1]}") == 1
