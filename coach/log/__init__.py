"""The practice log beside the pipeline: what was done, when, how it felt (book, recorder, adherence, view, pain)."""
