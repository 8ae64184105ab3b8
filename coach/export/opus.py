"""Ogg Opus files (RFC 7845) written through the system's libopus and libogg, with the encoder's settings ours.

libsndfile's Opus writer gives no say over libopus's settings, and for the very same packets it takes
12-15 us more per 20 ms packet than calling libopus directly (a quarter more CPU on the bench's synthetic
session, a twentieth on real speech). libogg does the paging (and its CRCs).
"""

from __future__ import annotations

import ctypes
import functools
import os
import struct

import numpy as np

OPUS_LIBRARY = "libopus.so.0"
OGG_LIBRARY = "libogg.so.0"

OPUS_APPLICATION_AUDIO = 2049
OPUS_SET_BITRATE_REQUEST = 4002
OPUS_SET_VBR_REQUEST = 4006
OPUS_SET_COMPLEXITY_REQUEST = 4010
OPUS_SET_VBR_CONSTRAINT_REQUEST = 4020
OPUS_GET_LOOKAHEAD_REQUEST = 4027

# What libsndfile's writer gets for mono at 24 kHz: it leaves libopus's bit rate on OPUS_AUTO, which for
# one 20 ms stream is Fs + 10000 + 40 * 50 b/s (with its settings, our packets are bit-identical to its).
# A VBR target: speech with pauses averages about 26 kb/s.
BIT_RATE_BPS = 36000
# Measured on a real session (12.7 min of speech; libopus 1.3.1, float build): complexities 10, 9 and 8 give
# the same packets (8: all but 6 of 38090) in the same 8.5 s of CPU. 7 takes 6.6 s but scores lower, PESQ-WB
# 4.01 against 4.09 and log-spectral distance 3.71 dB against 3.61 (shifting the input a few samples moves
# them by 0.02 and 0.03). Below 7 libopus drops its speech/music analysis and codes speech as music, worse
# still (PESQ-WB 3.90 at 36.6 kb/s). So the lowest that is no worse than 10: no time is gained here.
COMPLEXITY = 8
FRAME_MS = 20
GRANULE_RATE = 48000  # Ogg Opus counts granule positions (and pre-skip) at 48 kHz whatever the coded rate
MAX_PACKET_BYTES = 1275 * 3 + 7  # the largest packet one encode call can return (opusenc's bound)
# Room in OpusTags for the title and a few dozen chapters: mutagen then rewrites that page alone. Short of
# room, it moves every audio page along (about 30 MB for a 2-hour session).
TAGS_PADDING_BYTES = 4096


class _OggStreamState(ctypes.Structure):
    _fields_ = [("body_data", ctypes.c_void_p), ("body_storage", ctypes.c_long), ("body_fill", ctypes.c_long),
                ("body_returned", ctypes.c_long), ("lacing_vals", ctypes.c_void_p),
                ("granule_vals", ctypes.c_void_p), ("lacing_storage", ctypes.c_long),
                ("lacing_fill", ctypes.c_long), ("lacing_packet", ctypes.c_long),
                ("lacing_returned", ctypes.c_long), ("header", ctypes.c_ubyte * 282), ("header_fill", ctypes.c_int),
                ("e_o_s", ctypes.c_int), ("b_o_s", ctypes.c_int), ("serialno", ctypes.c_long),
                ("pageno", ctypes.c_long), ("packetno", ctypes.c_int64), ("granulepos", ctypes.c_int64)]


class _OggPage(ctypes.Structure):
    _fields_ = [("header", ctypes.c_void_p), ("header_len", ctypes.c_long),
                ("body", ctypes.c_void_p), ("body_len", ctypes.c_long)]


class _OggPacket(ctypes.Structure):
    _fields_ = [("packet", ctypes.c_void_p), ("bytes", ctypes.c_long), ("b_o_s", ctypes.c_long),
                ("e_o_s", ctypes.c_long), ("granulepos", ctypes.c_int64), ("packetno", ctypes.c_int64)]


def _declare(lib: ctypes.CDLL, name: str, restype, *argtypes) -> None:
    function = getattr(lib, name)
    function.restype, function.argtypes = restype, list(argtypes)


@functools.cache
def system_libraries() -> tuple[ctypes.CDLL, ctypes.CDLL] | None:
    """The system's libopus and libogg with the calls used here declared, or None when either is missing."""
    try:
        opus = ctypes.CDLL(OPUS_LIBRARY)
        # libogg's calls take well under a microsecond: called with the GIL held, they spare the
        # encoding thread a hand-over of the GIL (and a wait for the mixing thread) per packet.
        ogg = ctypes.PyDLL(OGG_LIBRARY)
    except OSError:
        return None
    _declare(opus, "opus_encoder_create", ctypes.c_void_p, ctypes.c_int32, ctypes.c_int, ctypes.c_int,
             ctypes.POINTER(ctypes.c_int))
    _declare(opus, "opus_encode_float", ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
             ctypes.c_void_p, ctypes.c_int32)
    _declare(opus, "opus_encoder_destroy", None, ctypes.c_void_p)
    _declare(opus, "opus_strerror", ctypes.c_char_p, ctypes.c_int)
    _declare(opus, "opus_get_version_string", ctypes.c_char_p)
    stream, page, packet = (ctypes.POINTER(t) for t in (_OggStreamState, _OggPage, _OggPacket))
    _declare(ogg, "ogg_stream_init", ctypes.c_int, stream, ctypes.c_int)
    _declare(ogg, "ogg_stream_packetin", ctypes.c_int, stream, packet)
    _declare(ogg, "ogg_stream_pageout", ctypes.c_int, stream, page)
    _declare(ogg, "ogg_stream_flush", ctypes.c_int, stream, page)
    _declare(ogg, "ogg_stream_clear", ctypes.c_int, stream)
    return opus, ogg


def opus_head(channels: int, pre_skip: int, input_rate: int) -> bytes:
    """The identification header (RFC 7845 section 5.1): version 1, gain 0, channel mapping family 0."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, input_rate, 0, 0)


def opus_tags(vendor: str) -> bytes:
    """The comment header (RFC 7845 section 5.2) with no comments, and zero padding after them."""
    encoded = vendor.encode("utf-8")
    return b"OpusTags" + struct.pack("<I", len(encoded)) + encoded + struct.pack("<I", 0) + bytes(TAGS_PADDING_BYTES)


class OpusFileWriter:
    """A mono Ogg Opus file being written; write() takes float32 frames at the rate it was opened with."""

    subtype = "OPUS"

    def __init__(self, libraries: tuple[ctypes.CDLL, ctypes.CDLL], path: os.PathLike, rate: int, input_rate: int):
        self._opus, self._ogg = libraries
        self._frame = rate * FRAME_MS // 1000
        self._granule_step = GRANULE_RATE // rate
        self._encoder = None
        self._stream = _OggStreamState()
        self._stream_ref = ctypes.byref(self._stream)
        self._page = _OggPage()
        self._page_ref = ctypes.byref(self._page)
        self._packet = _OggPacket()
        self._packet_ref = ctypes.byref(self._packet)
        self._buffer = ctypes.create_string_buffer(MAX_PACKET_BYTES)
        self._pending = np.zeros(0, dtype=np.float32)
        self._frames_written = 0  # input frames taken by write()
        self._granule = 0  # 48 kHz samples in the packets encoded so far
        self._stream_open = False
        self._file = open(path, "wb")
        try:
            self._start_encoder(rate)
            # A random serial number, as Ogg asks, so that streams chained or muxed together stay apart
            serial = int.from_bytes(os.urandom(4), "little") >> 1
            if self._ogg.ogg_stream_init(self._stream_ref, serial) != 0:
                raise OSError("libogg could not start an Ogg stream")
            self._stream_open = True
            lookahead = ctypes.c_int32()
            self._ctl(OPUS_GET_LOOKAHEAD_REQUEST, ctypes.byref(lookahead), "a request for its lookahead")
            self._lookahead = lookahead.value
            self._pre_skip = lookahead.value * self._granule_step
            vendor = self._opus.opus_get_version_string().decode("ascii", "replace")
            # Each header packet must end its page (RFC 7845 section 3): flush after each.
            self._packet_in(opus_head(1, self._pre_skip, input_rate), granule=0, first=True)
            self._flush_pages()
            self._packet_in(opus_tags(vendor), granule=0)
            self._flush_pages()
        except BaseException:
            self._release()
            raise

    def _start_encoder(self, rate: int) -> None:
        error = ctypes.c_int()
        self._encoder = self._opus.opus_encoder_create(rate, 1, OPUS_APPLICATION_AUDIO, ctypes.byref(error))
        if error.value != 0 or not self._encoder:
            self._encoder = None
            raise OSError(f"libopus could not start an encoder at {rate} Hz ({self._error_text(error.value)})")
        self._ctl(OPUS_SET_BITRATE_REQUEST, ctypes.c_int32(BIT_RATE_BPS), "the bit rate")
        self._ctl(OPUS_SET_VBR_REQUEST, ctypes.c_int32(1), "variable bit rate")
        # Unconstrained, as opusenc and ffmpeg encode files: the constraint only serves a fixed-rate channel.
        self._ctl(OPUS_SET_VBR_CONSTRAINT_REQUEST, ctypes.c_int32(0), "unconstrained VBR")
        self._ctl(OPUS_SET_COMPLEXITY_REQUEST, ctypes.c_int32(COMPLEXITY), f"complexity {COMPLEXITY}")

    def _error_text(self, code: int) -> str:
        return self._opus.opus_strerror(code).decode("ascii", "replace")

    def _ctl(self, request: int, argument, what: str) -> None:
        # opus_encoder_ctl is variadic, so it gets no argtypes: every argument goes as its exact C type.
        code = self._opus.opus_encoder_ctl(ctypes.c_void_p(self._encoder), ctypes.c_int(request), argument)
        if code != 0:
            raise OSError(f"libopus refused {what} ({self._error_text(code)})")

    def _packet_in(self, data: bytes, granule: int, first: bool = False) -> None:
        buffer = ctypes.create_string_buffer(data, len(data))
        packet = self._packet
        packet.packet, packet.bytes = ctypes.addressof(buffer), len(data)
        packet.b_o_s, packet.e_o_s, packet.granulepos = int(first), 0, granule
        if self._ogg.ogg_stream_packetin(self._stream_ref, self._packet_ref) != 0:
            raise OSError("libogg could not take a packet")
        packet.packetno += 1

    def _write_page(self) -> None:
        page = self._page
        self._file.write(ctypes.string_at(page.header, page.header_len))
        self._file.write(ctypes.string_at(page.body, page.body_len))

    def _flush_pages(self) -> None:
        while self._ogg.ogg_stream_flush(self._stream_ref, self._page_ref):
            self._write_page()

    def _encode(self, frames: np.ndarray, count: int, end_granule: int | None = None) -> None:
        """Encode frames[:count] (a whole number of Opus frames); the last packet ends the stream at end_granule."""
        encode, packet_in, page_out = self._opus.opus_encode_float, self._ogg.ogg_stream_packetin, \
            self._ogg.ogg_stream_pageout
        encoder, buffer, stream, packet, packet_ref, page_ref = \
            self._encoder, self._buffer, self._stream_ref, self._packet, self._packet_ref, self._page_ref
        packet.packet, packet.b_o_s = ctypes.addressof(buffer), 0
        step, size, granule = self._granule_step * self._frame, self._frame, self._granule
        address = frames.ctypes.data
        for start in range(0, count, size):
            nbytes = encode(encoder, address + 4 * start, size, buffer, MAX_PACKET_BYTES)
            if nbytes < 0:
                raise OSError(f"libopus could not encode ({self._error_text(nbytes)})")
            granule += step
            packet.bytes, packet.granulepos = nbytes, granule
            if end_granule is not None and start + size >= count:
                packet.granulepos, packet.e_o_s = end_granule, 1
            if packet_in(stream, packet_ref) != 0:
                raise OSError("libogg could not take a packet")
            packet.packetno += 1
            while page_out(stream, page_ref):
                self._write_page()
        self._granule = granule

    def write(self, frames: np.ndarray) -> None:
        """Append float32 frames; OSError when the file is closed or the encoder or the disk fails."""
        if self._encoder is None:
            raise OSError("the Opus file is already closed")
        frames = np.asarray(frames, dtype=np.float32)
        self._frames_written += len(frames)
        if len(self._pending):
            frames = np.concatenate((self._pending, frames))
        frames = np.ascontiguousarray(frames)
        whole = len(frames) - len(frames) % self._frame
        self._encode(frames, whole)
        self._pending = frames[whole:].copy()

    def close(self) -> None:
        """Encode what is left, end the stream so decoders trim the padding, and close; safe to call again."""
        if self._encoder is None:
            return
        try:
            # The decoder gives back the input `lookahead` frames late: encode that much silence more, then
            # let the last granule position cut everything past the frames written.
            wanted = self._frames_written - (self._granule // self._granule_step) + self._lookahead
            padded = -(-wanted // self._frame) * self._frame
            tail = np.zeros(padded, dtype=np.float32)
            tail[:len(self._pending)] = self._pending
            self._encode(tail, padded, end_granule=self._pre_skip + self._frames_written * self._granule_step)
            self._flush_pages()
            self._file.flush()
        finally:
            self._release()

    def _release(self) -> None:
        if self._encoder is not None:
            self._opus.opus_encoder_destroy(self._encoder)
            self._encoder = None
        if self._stream_open:
            self._ogg.ogg_stream_clear(self._stream_ref)
            self._stream_open = False
        self._file.close()

    def __enter__(self) -> OpusFileWriter:
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is None:
            self.close()
        else:
            self._release()  # the file is being abandoned: no need to finish it


def open_writer(path: os.PathLike, rate: int, input_rate: int) -> OpusFileWriter | None:
    """A mono Ogg Opus writer at rate (8, 12, 16, 24 or 48 kHz); None when libopus or libogg is missing."""
    libraries = system_libraries()
    if libraries is None:
        return None
    return OpusFileWriter(libraries, path, rate, input_rate)
