"""coach: a voice-guided audio coach for floor routines."""

__version__ = "0.1.0"
