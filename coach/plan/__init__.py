"""The plan stage, pure: routine + settings + clip lengths -> a timed Plan (planner.plan, settings, model.Plan)."""
