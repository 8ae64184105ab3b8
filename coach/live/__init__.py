"""The live sink: the same timeline played on the audio device, with keys, a status line and progress (player)."""
