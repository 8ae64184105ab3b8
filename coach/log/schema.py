"""The practice log's tables, as the migrations that build them one version at a time."""

SCHEMA_VERSION = 3

# Each entry takes the schema from the version before it to this one; never edit a released entry.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            routine TEXT NOT NULL,
            title TEXT NOT NULL,
            language TEXT NOT NULL,
            voice TEXT,
            rate_wpm INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            planned_s REAL NOT NULL,
            done_s REAL NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL DEFAULT 'interrupted' CHECK (outcome IN ('finished', 'stopped', 'interrupted')),
            pain INTEGER CHECK (pain BETWEEN 0 AND 10)
        )""",
        """CREATE TABLE session_exercises (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            side TEXT,
            planned_reps INTEGER NOT NULL,
            done_reps INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX session_exercises_by_session ON session_exercises(session_id, position)",
        "CREATE INDEX sessions_by_routine ON sessions(routine)",
    ),
    2: (
        "ALTER TABLE sessions ADD COLUMN note TEXT",
        "ALTER TABLE session_exercises ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0",
    ),
    # SQLite cannot change a CHECK constraint in place: the table is rebuilt (foreign keys are off meanwhile).
    3: (
        """CREATE TABLE sessions_v3 (
            id INTEGER PRIMARY KEY,
            routine TEXT NOT NULL,
            title TEXT NOT NULL,
            language TEXT NOT NULL,
            voice TEXT,
            rate_wpm INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            planned_s REAL NOT NULL,
            done_s REAL NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL DEFAULT 'interrupted'
                CHECK (outcome IN ('finished', 'stopped', 'interrupted', 'partial')),
            pain INTEGER CHECK (pain BETWEEN 0 AND 10),
            note TEXT,
            source TEXT NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'manual'))
        )""",
        "INSERT INTO sessions_v3 (id, routine, title, language, voice, rate_wpm, started_at, ended_at, planned_s, "
        "done_s, outcome, pain, note) SELECT id, routine, title, language, voice, rate_wpm, started_at, ended_at, "
        "planned_s, done_s, outcome, pain, note FROM sessions",
        "DROP TABLE sessions",
        "ALTER TABLE sessions_v3 RENAME TO sessions",
        "CREATE INDEX sessions_by_routine ON sessions(routine)",
    ),
}
