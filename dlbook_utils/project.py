"""Where the book lives: its repository, its website, and how a notebook installs this package.

Every link to the repository or the site is derived here from one value, the repository URL of
the book's ``_config.yml`` (``repository.url`` and ``repository.branch``). The package must work
without the repository (on Colab), so the two values are copied into this module by
``python tools/sync_links.py``, and a test fails when the copy and ``_config.yml`` disagree.

The website is the repository's GitHub Pages site: https://OWNER.github.io/NAME/.
"""

from __future__ import annotations

# Copied from _config.yml by tools/sync_links.py; do not edit by hand.
REPOSITORY_URL = "https://github.com/dlbook/dlbook"
BRANCH = "main"

# A test (or an instructor's mirror) points the notebooks' install cell elsewhere, e.g. at a wheel.
PIP_SPEC_ENV = "DLBOOK_PIP_SPEC"
COLAB_URL = "https://colab.research.google.com"


def _owner_and_name(repository_url: str = REPOSITORY_URL) -> tuple[str, str]:
    prefix = "https://github.com/"
    parts = repository_url.removeprefix(prefix).strip("/").split("/")
    if not repository_url.startswith(prefix) or len(parts) != 2 or not all(parts):
        raise ValueError(f"expected a repository URL like {prefix}OWNER/NAME, got {repository_url!r}")
    return parts[0], parts[1]


def pip_spec(repository_url: str = REPOSITORY_URL) -> str:
    """What ``pip install`` takes to install this package from the repository."""
    return f"dlbook_utils @ git+{repository_url}"


def site_url(page: str = "", repository_url: str = REPOSITORY_URL) -> str:
    """The URL of ``page`` (e.g. ``"book/errata.html"``) on the book's website."""
    owner, name = _owner_and_name(repository_url)
    return f"https://{owner.lower()}.github.io/{name}/{page}"


def colab_url(path: str, repository_url: str = REPOSITORY_URL, branch: str = BRANCH) -> str:
    """The URL that opens the repository's notebook ``path`` (e.g. ``"exercises/ch02_x.ipynb"``) on Colab."""
    owner, name = _owner_and_name(repository_url)
    return f"{COLAB_URL}/github/{owner}/{name}/blob/{branch}/{path}"


def blob_url(path: str, repository_url: str = REPOSITORY_URL, branch: str = BRANCH) -> str:
    """The URL of the repository's file ``path`` as GitHub shows it."""
    return f"{repository_url}/blob/{branch}/{path}"


INSTALL_TAG = "remove-cell"  # hidden on the site: a reader of the page has nothing to install


def install_cell_source(repository_url: str = REPOSITORY_URL) -> str:
    """The first code cell of every notebook: install this package when it is not importable.

    Nothing may import ``dlbook_utils`` before it, so "Run all" works on a fresh Colab runtime.
    """
    return (
        "# Hidden on the site: installs the book's package on a fresh runtime.\n"
        "try:\n"
        "    import dlbook_utils  # noqa: F401\n"
        "except ImportError:\n"
        "    import os\n"
        "\n"
        f'    default = "{pip_spec(repository_url)}"\n'
        f"    # {PIP_SPEC_ENV} overrides it, e.g. a test installs a wheel\n"
        f'    spec = os.environ.get("{PIP_SPEC_ENV}", default)\n'
        '    %pip install -q "{spec}"'
    )



def is_install_cell(cell) -> bool:
    """Whether notebook ``cell`` installs this package (the canonical cell or an older spelling)."""
    source = "".join(cell["source"])
    return cell["cell_type"] == "code" and "pip install" in source and "dlbook_utils" in source
