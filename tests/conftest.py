"""Keep the tests away from the user's own config and cache folders."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def private_user_dirs(tmp_path_factory):
    """One shared clip cache and an empty config folder for the whole run."""
    root = tmp_path_factory.mktemp("user")
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    for key in saved:
        os.environ[key] = str(root / key.lower())
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
