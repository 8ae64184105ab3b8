"""The routine stage: TOML files in, validated Routine data out (Routine, Exercise, load_routine, parse_routine)."""

from coach.routine.library import (builtin_names, builtin_text, load_routine, load_routine_file, user_routine_dir,
                                   user_routine_files)
from coach.routine.model import (MAX_SESSION_S, Exercise, ExerciseText, Routine, RoutineText, in_language,
                                 nominal_duration_s)
from coach.routine.parse import SCHEMA, parse_routine

__all__ = ["MAX_SESSION_S", "SCHEMA", "Exercise", "ExerciseText", "Routine", "RoutineText", "builtin_names",
           "builtin_text", "in_language", "load_routine", "load_routine_file", "nominal_duration_s", "parse_routine",
           "user_routine_dir", "user_routine_files"]
