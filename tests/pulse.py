"""A private PulseAudio server with a null sink for live-audio tests, and ALSA routed to it.

Import the `pulse_server` fixture explicitly in a test module. Programs run with `server.env` play
through simpleaudio -> ALSA -> the pulse plugin -> the null sink "coach", whose monitor is recorded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile

from coach.plan.model import SAMPLE_RATE

SINK = "coach"

# ALSA's own configuration first, then ours on top: the default PCM is the pulse plugin.
_ALSA_TO_PULSE = "pcm.!default { type pulse }\nctl.!default { type pulse }\n"
# A default PCM that cannot open, as on a machine without any sound card (ALSA complains on stderr).
_ALSA_NOWHERE = 'pcm.!default { type plug slave.pcm "nosuchdevice" }\n'


def alsa_env(tmp: Path, config_text: str) -> dict[str, str]:
    """Environment variables making ALSA read config_text after its system configuration."""
    path = tmp / "asound.conf"
    path.write_text(config_text)
    return {"ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{path}"}


def no_device_env(tmp: Path) -> dict[str, str]:
    """A full environment in which no audio output device exists (no server, ALSA pointed nowhere)."""
    env = dict(os.environ)
    env.update(alsa_env(tmp, _ALSA_NOWHERE))
    env["PULSE_SERVER"] = f"unix:{tmp}/no-such-socket"
    env["XDG_RUNTIME_DIR"] = str(tmp)
    return env


class PulseServer:
    """A running pulseaudio process with a null sink, and the environment that reaches it."""

    def __init__(self, root: Path):
        self.root = root
        runtime = root / "runtime"
        runtime.mkdir(mode=0o700)
        self.socket = runtime / "pulse" / "native"
        self.env = dict(os.environ)
        self.env.update({"XDG_RUNTIME_DIR": str(runtime), "HOME": str(root), "PULSE_SERVER": f"unix:{self.socket}"})
        self.env.update(alsa_env(root, _ALSA_TO_PULSE))
        self.log = root / "pulseaudio.log"
        self.process: subprocess.Popen | None = None
        self.options: tuple[str, ...] = ()  # more pulseaudio options, e.g. ("--realtime=no",)

    def start(self) -> None:
        """Starts the server (no default.pa, never exits on idle) and waits until it answers."""
        for tool in ("pulseaudio", "pactl", "parecord"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed (scripts/bootstrap installs pulseaudio-utils)")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["pulseaudio", "-n", "--daemonize=no", "--system=no", "--exit-idle-time=-1", "--disallow-exit",
                 "-L", f"module-null-sink sink_name={SINK} rate={SAMPLE_RATE} channels=1 norewinds=1",
                 "-L", "module-native-protocol-unix", *self.options],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited with {self.process.returncode}: {self.log.read_text()}")
            if self.pactl("set-default-sink", SINK, check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"pulseaudio did not answer within 10 s: {self.log.read_text()}")

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Runs pactl against this server."""
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=check, timeout=10)

    @contextmanager
    def recording(self, path: Path):
        """Records the null sink's monitor to a mono 16-bit WAV at SAMPLE_RATE while the block runs."""
        recorder = subprocess.Popen(
            ["parecord", "-d", f"{SINK}.monitor", f"--rate={SAMPLE_RATE}", "--channels=1", "--format=s16le",
             "--file-format=wav", "--latency-msec=20", str(path)],
            env=self.env, stderr=subprocess.PIPE)
        try:
            time.sleep(0.3)  # the stream must be connected before anything plays
            yield path
        finally:
            recorder.send_signal(signal.SIGINT)
            try:
                recorder.wait(timeout=5)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()

    def stop(self) -> None:
        """Stops the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def pulse_server(tmp_path_factory) -> PulseServer:
    """A private PulseAudio server for the test module, stopped afterwards."""
    with running_server(tmp_path_factory.mktemp("pulse")) as server:
        yield server


@contextmanager
def running_server(folder: Path, options: tuple[str, ...] = ()):
    """A private PulseAudio server in `folder` (made if missing) for the block, stopped afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    server = PulseServer(folder)
    server.options = options
    server.start()
    try:
        yield server
    finally:
        server.stop()


def read_recording(path: Path) -> np.ndarray:
    """A recording as float mono samples at SAMPLE_RATE."""
    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE, f"{path}: recorded at {rate} Hz"
    return samples[:, 0]


def onsets_s(samples: np.ndarray, threshold: float = 0.05, min_gap_s: float = 0.15) -> list[float]:
    """Times where the signal rises above threshold after at least min_gap_s below it."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if len(loud) == 0:
        return []
    gap = int(min_gap_s * SAMPLE_RATE)
    starts = [loud[0]] + [b for a, b in zip(loud[:-1], loud[1:]) if b - a > gap]
    return [s / SAMPLE_RATE for s in starts]


def dominant_hz(samples: np.ndarray, at_s: float, length_s: float = 0.05) -> float:
    """The strongest frequency in the length_s after at_s."""
    lo = int(at_s * SAMPLE_RATE)
    piece = samples[lo:lo + int(length_s * SAMPLE_RATE)]
    spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece)), n=1 << 15))
    return float(np.argmax(spectrum) * SAMPLE_RATE / (1 << 15))
