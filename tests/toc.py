"""The book's table of contents (``_toc.yml``), read for the tests of the built site."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_pages(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document of the table of contents, in order: ``book/intro``, ``chapters/…``."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    pages = [str(Path(toc["root"]).with_suffix(""))]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


def toc_chapters(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """The chapters the book publishes: ``01_efficient_representations``, …"""
    return [page.removeprefix("chapters/") for page in toc_pages(toc_path)
            if page.startswith("chapters/")]
