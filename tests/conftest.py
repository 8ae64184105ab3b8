"""Keep the tests away from the user's own config and cache folders, and from the user's language."""

import os

import pytest

# coach speaks and prints the locale's language: the suite runs in English whatever the machine's
# locale, and the tests about languages set the locale they need themselves.
for _key in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_key, None)
os.environ["LANG"] = "C.UTF-8"


@pytest.fixture(autouse=True, scope="session")
def private_user_dirs(tmp_path_factory):
    """One shared clip cache and empty config and data folders for the whole run."""
    root = tmp_path_factory.mktemp("user")
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    for key in saved:
        os.environ[key] = str(root / key.lower())
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # The workers of one run share the clip cache (it is safe across processes), so each clip is
        # rendered once per run rather than once per worker; config and data stay each worker's own.
        os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.getbasetemp().parent / "shared-cache")
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


SHORT_ROUTINE = """\
title = "Short test"
equipment = ["a chair"]

[[exercises]]
name = "Press"
instructions = "Press your toes down."
setup_s = 2
reps = 2
hold_s = 3
rest_s = 3

[[exercises]]
name = "March"
instructions = "March on the spot."
sides = ["left", "right"]
work_s = 4
"""


@pytest.fixture
def short_routine(tmp_path):
    """A routine file of two small exercises (a hold with reps, a work period with sides)."""
    path = tmp_path / "short.toml"
    path.write_text(SHORT_ROUTINE)
    return path
