"""Where the desktop's session D-Bus is, for every surface that talks to it (MPRIS, notifications)."""

from __future__ import annotations

import os
from pathlib import Path


def session_bus_address() -> str | None:
    """The session bus: DBUS_SESSION_BUS_ADDRESS, else the per-user socket of systemd; None when there is none."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime, "bus").is_socket():
        return f"unix:path={Path(runtime, 'bus')}"
    return None
