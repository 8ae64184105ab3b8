"""MPRIS on the session D-Bus while a session plays: headset buttons, media keys, the desktop and playerctl.

The service runs dbus-fast on an asyncio loop in a thread of its own (no GLib main loop) and touches the
session only through coach.live.control: methods submit Commands, properties read the last NowPlaying,
and a watcher turns changes into PropertiesChanged signals. Anything that keeps it from starting (no
session bus, no dbus-fast, the names taken) leaves the session playing exactly as without it.
"""

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from coach.i18n import _
from coach.live.control import Command, Controls, NowPlaying, Status
from coach.sessionbus import session_bus_address

BUS_NAME = "org.mpris.MediaPlayer2.coach"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
TRACK_PATH = "/org/coach/track"  # + the track number: an object path per chapter, as MPRIS asks
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
START_WAIT_S = 1.0  # longest the session waits for the bus before it plays anyway
US_PER_S = 1_000_000


def metadata(now: NowPlaying | None) -> dict:
    """The MPRIS Metadata of a track, as D-Bus variants."""
    from dbus_fast import Variant

    if now is None:
        return {"mpris:trackid": Variant("o", NO_TRACK)}
    return {
        "mpris:trackid": Variant("o", f"{TRACK_PATH}/{now.track}"),
        "mpris:length": Variant("x", int(round(now.length_s * US_PER_S))),
        "xesam:title": Variant("s", now.title),
        "xesam:album": Variant("s", now.album),
        "xesam:artist": Variant("as", ["coach"]),
        "xesam:trackNumber": Variant("i", now.track + 1),
    }


def _interfaces(controls: Controls):
    """The root and Player interfaces, built here so that dbus-fast is imported only when MPRIS starts."""
    from typing import Annotated

    from dbus_fast import PropertyAccess
    from dbus_fast.annotations import (DBusBool as Bool, DBusDict as Dict, DBusDouble as Double,
                                       DBusInt64 as Int64, DBusObjectPath as Path_, DBusSignature, DBusStr as Str)
    from dbus_fast.service import ServiceInterface, dbus_property, method, signal

    Strs = Annotated[list[str], DBusSignature("as")]
    read = PropertyAccess.READ

    class Root(ServiceInterface):
        def __init__(self):
            super().__init__("org.mpris.MediaPlayer2")

        @method()
        def Raise(self):
            pass  # there is no window to raise

        @method()
        def Quit(self):
            controls.submit(Command.STOP)

        @dbus_property(access=read)
        def CanQuit(self) -> Bool:
            return True

        @dbus_property(access=read)
        def CanRaise(self) -> Bool:
            return False

        @dbus_property(access=read)
        def HasTrackList(self) -> Bool:
            return False

        @dbus_property(access=read)
        def Identity(self) -> Str:
            return "coach"

        @dbus_property(access=read)
        def DesktopEntry(self) -> Str:
            return "coach"

        @dbus_property(access=read)
        def SupportedUriSchemes(self) -> Strs:
            return []

        @dbus_property(access=read)
        def SupportedMimeTypes(self) -> Strs:
            return []

    class Player(ServiceInterface):
        def __init__(self):
            super().__init__("org.mpris.MediaPlayer2.Player")

        @method()
        def PlayPause(self):
            controls.submit(Command.TOGGLE)

        @method()
        def Play(self):
            controls.submit(Command.PLAY)

        @method()
        def Pause(self):
            controls.submit(Command.PAUSE)

        @method()
        def Next(self):
            controls.submit(Command.NEXT)

        @method()
        def Previous(self):
            controls.submit(Command.PREVIOUS)

        @method()
        def Stop(self):
            controls.submit(Command.STOP)

        @method()
        def Seek(self, offset_us: Int64):
            pass  # CanSeek is false: MPRIS asks that this then does nothing

        @method()
        def SetPosition(self, track_id: Path_, position_us: Int64):
            pass

        @method()
        def OpenUri(self, uri: Str):
            pass

        @signal()
        def Seeked(self, position_us: Int64) -> Int64:
            return position_us

        @dbus_property(access=read)
        def PlaybackStatus(self) -> Str:
            now = controls.now()
            return str(now.status if now is not None else Status.STOPPED)

        @dbus_property(access=read)
        def Rate(self) -> Double:
            return 1.0

        @dbus_property(access=read)
        def MinimumRate(self) -> Double:
            return 1.0

        @dbus_property(access=read)
        def MaximumRate(self) -> Double:
            return 1.0

        @dbus_property(access=read)
        def Volume(self) -> Double:
            return 1.0

        @dbus_property(access=read)
        def Metadata(self) -> Dict:
            return metadata(controls.now())

        @dbus_property(access=read)
        def Position(self) -> Int64:
            now = controls.now()
            return int(now.track_position_s * US_PER_S) if now is not None else 0

        @dbus_property(access=read)
        def CanGoNext(self) -> Bool:
            now = controls.now()
            return now is None or now.can_next

        @dbus_property(access=read)
        def CanGoPrevious(self) -> Bool:
            return True

        @dbus_property(access=read)
        def CanPlay(self) -> Bool:
            return True

        @dbus_property(access=read)
        def CanPause(self) -> Bool:
            return True

        @dbus_property(access=read)
        def CanSeek(self) -> Bool:
            return False

        @dbus_property(access=read)
        def CanControl(self) -> Bool:
            return True

    return Root(), Player()


class Mpris:
    """The MPRIS service of one session, on its own thread; close() takes it off the bus."""

    def __init__(self, controls: Controls, address: str):
        self.controls, self.address = controls, address
        self.name: str | None = None  # the bus name it got, once started
        self.problem: str | None = None  # why it could not start
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bus = None
        self._closing = False
        self._closed: asyncio.Future | None = None
        self._thread = threading.Thread(target=self._run, name="coach-mpris", daemon=True)

    def start(self, wait_s: float = START_WAIT_S) -> bool:
        """Starts the service and waits up to wait_s for it to hold a name; whether it does (so far)."""
        self._thread.start()
        self._ready.wait(wait_s)
        return self.name is not None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        # A bus that goes away mid-session must not print asyncio's reports over the status line.
        loop.set_exception_handler(lambda _loop, _context: None)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except Exception as exc:  # any failure only means no MPRIS; the session plays on
            reason = " ".join(str(exc).split()) or type(exc).__name__
            self.problem = self.problem or _("cannot use the session bus ({reason})").format(reason=reason)
        finally:
            if self._bus is not None:
                self._bus.disconnect()
            loop.close()
            self._ready.set()

    async def _serve(self) -> None:
        from dbus_fast import NameFlag, RequestNameReply
        from dbus_fast.aio import MessageBus

        self._bus = bus = await asyncio.wait_for(MessageBus(bus_address=self.address).connect(), START_WAIT_S)
        root, player = _interfaces(self.controls)
        bus.export(OBJECT_PATH, root)
        bus.export(OBJECT_PATH, player)
        # The plain name for the first session; a second one at once gets its own, as MPRIS suggests.
        for name in (BUS_NAME, f"{BUS_NAME}.instance{os.getpid()}"):
            reply = await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
            if reply in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
                self.name = name
                break
        if self.name is None:
            self.problem = _("the names {name} and its instance name are taken").format(name=BUS_NAME)
            return
        last: list[NowPlaying | None] = [None]

        def changed(now: NowPlaying) -> None:
            self._call(self._changed, player, now, last[0])
            last[0] = now

        self.controls.watch(changed)
        self._ready.set()
        # Served until close(); the flag covers a close() that came before this future existed.
        self._closed = asyncio.get_running_loop().create_future()
        if not self._closing:
            await self._closed

    def _call(self, func, *args) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(func, *args)
            except RuntimeError:  # closed in between: nobody is listening any more
                pass

    def _changed(self, player, now: NowPlaying, before: NowPlaying | None) -> None:
        if self._bus is None or not self._bus.connected:
            return
        player.emit_properties_changed({"PlaybackStatus": str(now.status), "Metadata": metadata(now),
                                        "CanGoNext": now.can_next})
        if before is not None and now.jumps != before.jumps:
            # Clients extrapolate the position from the last one they read; a jump must correct them.
            player.Seeked(int(now.track_position_s * US_PER_S))

    def close(self) -> None:
        """Leaves the bus (with the name) and ends the thread."""
        self._closing = True
        self._call(self._end)
        self._thread.join(timeout=2.0)

    def _end(self) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)


def start_mpris(controls: Controls) -> tuple[Mpris | None, str]:
    """The MPRIS service for controls, started, and what happened in a few words (for --debug).

    None when it cannot run: no session bus, no dbus-fast, or every name taken.
    """
    address = session_bus_address()
    if address is None:
        return None, _("no session bus")
    try:
        import dbus_fast  # noqa: F401
    except ImportError:
        return None, _("dbus-fast is not installed")
    service = Mpris(controls, address)
    if service.start():
        return service, _("on the session bus as {name}").format(name=service.name)
    if service.problem is None:
        return service, _("still connecting to the session bus")
    service.close()
    return None, service.problem


@contextmanager
def serving_mpris(controls: Controls, enabled: bool, note: Callable[[str], None]) -> Iterator[Mpris | None]:
    """MPRIS for the block when enabled and possible; note(line) hears what became of it, in one line."""
    if not enabled:
        yield None
        return
    service, how = start_mpris(controls)
    note(f"MPRIS: {how}")
    try:
        yield service
    finally:
        if service is not None:
            service.close()
