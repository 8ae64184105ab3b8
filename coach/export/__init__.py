"""The file sink: a plan's mixed timeline written to WAV, FLAC, Ogg, Opus or MP3 with tags and captions (writer)."""
