"""Where a chapter's notebook opens in Colab: the repository's address, and the links to it.

The repository URL and branch are written once, in ``_config.yml`` (``repository.url``,
``repository.branch``). The notebooks' badges (tools/notebooks.py) and the book's badges
(book/_ext/colab_badge.py) are both made here, so that the two cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def repository_info(root: Path | str = REPO_ROOT) -> tuple[str, str]:
    """Return ``(url, branch)`` of the course repository, read from ``_config.yml``.

    ``repository.url`` is required; ``repository.branch`` defaults to ``main``.
    """
    config_path = Path(root) / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    repository = config.get("repository") or {}
    url = repository.get("url")
    if not url:
        raise ValueError(f"{config_path}: repository.url is not set")
    url = str(url).rstrip("/").removesuffix(".git")
    return url, str(repository.get("branch") or "main")


def colab_url_for(repository_url: str, branch: str, name: str) -> str:
    """Colab address of ``notebooks/NAME.ipynb`` in a GitHub repository on ``branch``."""
    prefix = "https://github.com/"
    if not repository_url.startswith(prefix):
        raise ValueError(f"Colab opens notebooks from GitHub only, not from {repository_url}")
    owner_repo = repository_url.removeprefix(prefix).rstrip("/").removesuffix(".git")
    return (
        f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/notebooks/{name}.ipynb"
    )


def colab_url(name: str, root: Path | str = REPO_ROOT) -> str:
    """Colab address of the notebook of chapter ``name`` (``chapters/NAME.md``)."""
    return colab_url_for(*repository_info(root), name)


def badge_markdown(url: str) -> str:
    """The Markdown of an "Open in Colab" badge linking to ``url``."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({url})"
