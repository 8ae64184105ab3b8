"""The wheel carries everything coach needs at run time: routines, phrase packs, schema and sounds."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_includes_routines_phrases_schema_and_sounds(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    str(ROOT), "-w", str(tmp_path)], check=True, capture_output=True, timeout=600)
    wheel, = tmp_path.glob("coach-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    routines = list((ROOT / "coach" / "routine" / "routines").glob("*.toml"))
    assert len(routines) >= 3
    for routine in routines:
        assert f"coach/routine/routines/{routine.name}" in names
    packs = list((ROOT / "coach" / "plan" / "phrases").glob("*.toml"))
    assert len(packs) >= 4
    for pack in packs:
        assert f"coach/plan/phrases/{pack.name}" in names
    assert "coach/routine/routine.schema.json" in names
    for sound in ("rest", "pip", "start", "stop", "end"):
        assert f"coach/sounds/{sound}.wav" in names
    assert "coach/speech/worker.py" in names
    for po in (ROOT / "coach" / "locale").glob("*/LC_MESSAGES/coach.po"):
        assert f"coach/locale/{po.parent.parent.name}/LC_MESSAGES/coach.mo" in names
