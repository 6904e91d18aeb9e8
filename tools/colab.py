"""Where a chapter's notebook opens in Colab or Kaggle: the repository's address, and the links.

The repository URL and branch are written once, in ``_config.yml`` (``repository.url``,
``repository.branch``). The notebooks' badges (tools/notebooks.py) and the book's badges
(book/_ext/colab_badge.py) are both made here, so that the two cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
KAGGLE_BADGE_IMAGE = "https://kaggle.com/static/images/open-in-kaggle.svg"


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


def _owner_repo(repository_url: str, service: str) -> str:
    prefix = "https://github.com/"
    if not repository_url.startswith(prefix):
        raise ValueError(f"{service} opens notebooks from GitHub only, not from {repository_url}")
    return repository_url.removeprefix(prefix).rstrip("/").removesuffix(".git")


def colab_url_for(repository_url: str, branch: str, name: str) -> str:
    """Colab address of ``notebooks/NAME.ipynb`` in a GitHub repository on ``branch``."""
    owner_repo = _owner_repo(repository_url, "Colab")
    return (
        f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/notebooks/{name}.ipynb"
    )


def kaggle_url_for(repository_url: str, branch: str, name: str) -> str:
    """Kaggle address that opens ``notebooks/NAME.ipynb`` of a GitHub repository as a new
    Kaggle notebook (Kaggle imports a notebook from its GitHub address)."""
    owner_repo = _owner_repo(repository_url, "Kaggle")
    return (f"https://kaggle.com/kernels/welcome?src=https://github.com/{owner_repo}/blob/"
            f"{branch}/notebooks/{name}.ipynb")


def colab_url(name: str, root: Path | str = REPO_ROOT) -> str:
    """Colab address of the notebook of chapter ``name`` (``chapters/NAME.md``)."""
    return colab_url_for(*repository_info(root), name)


def badge_markdown(url: str, kaggle: str | None = None) -> str:
    """The Markdown of an "Open in Colab" badge linking to ``url``, and of an "Open in
    Kaggle" badge linking to ``kaggle`` when given."""
    badges = f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({url})"
    if kaggle:
        badges += f" [![Open In Kaggle]({KAGGLE_BADGE_IMAGE})]({kaggle})"
    return badges
