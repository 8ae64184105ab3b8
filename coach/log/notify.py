"""A desktop notification over the session D-Bus (org.freedesktop.Notifications), the edge `today --notify` uses."""

from __future__ import annotations

import asyncio

from coach.errors import CoachError
from coach.sessionbus import session_bus_address as find_session_bus
from coach.i18n import _

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
TIMEOUT_S = 5.0


class NoDesktopError(CoachError):
    """There is no session bus, or nothing on it shows notifications."""


def session_bus_address() -> str:
    """The session bus's address (see coach.sessionbus); NoDesktopError when there is none."""
    address = find_session_bus()
    if address is None:
        raise NoDesktopError(_("no desktop session bus to show a notification on (DBUS_SESSION_BUS_ADDRESS is not set)"))
    return address


def markup_escaped(text: str) -> str:
    """Text shown as written by a daemon that reads the Desktop Notifications spec's markup (& < > as entities)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify(summary: str, body: str, address: str | None = None, timeout_s: float = TIMEOUT_S) -> int:
    """Show one notification (plain text, escaped for markup) on the session bus; return its id.

    Raises NoDesktopError when it cannot.
    """
    address = address if address is not None else session_bus_address()
    # GNOME, KDE and most daemons read the body (some the summary too) as markup: a title's <a href>,
    # <img src> or bare & would become a link, a local image or a rejected notification.
    summary, body = markup_escaped(summary), markup_escaped(body)
    try:
        return asyncio.run(asyncio.wait_for(_notify(address, summary, body), timeout_s))
    except asyncio.TimeoutError:
        raise NoDesktopError(_("the desktop did not answer within {seconds} s to show a notification").format(
            seconds=f"{timeout_s:g}")) from None


async def _notify(address: str, summary: str, body: str) -> int:
    from dbus_fast import Message, MessageType, Variant
    from dbus_fast.aio import MessageBus

    try:
        bus = await MessageBus(bus_address=address).connect()
    except Exception as exc:  # dbus-fast raises several kinds for a bus that is not there
        raise NoDesktopError(_("cannot reach the desktop session bus ({reason})").format(
            reason=exc or type(exc).__name__)) from None
    try:
        reply = await bus.call(Message(
            destination=BUS_NAME, path=OBJECT_PATH, interface=BUS_NAME, member="Notify", signature="susssasa{sv}i",
            body=["coach", 0, "", summary, body, [], {"urgency": Variant("y", 1), "category": Variant("s", "reminder")}, -1]))
    finally:
        bus.disconnect()
    if reply.message_type == MessageType.ERROR:
        detail = reply.body[0] if reply.body else reply.error_name
        raise NoDesktopError(_("nothing on the desktop session bus shows notifications ({reason})").format(reason=detail))
    return int(reply.body[0])
