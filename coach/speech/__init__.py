"""The speech stage: texts -> spoken clips, through an engine in a worker process (engine, voices, clipcache)."""
