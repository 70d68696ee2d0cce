"""A trainer changes a quiz's settings in the app. Callers commit."""
from __future__ import annotations

from ..audit.services import record
from ..extensions import db
from ..models_base import utcnow
from ..signals import progress_recorded
from .models import Quiz

SETTINGS = ("questions_per_attempt", "shuffle_questions", "shuffle_answers", "time_limit_minutes",
            "max_attempts", "pass_percent", "grading", "review", "right_answers")


def change_settings(quiz: Quiz, values: dict, editor_id: int) -> dict:
    """Apply the changed settings; from then on the bank's file no longer overrides them.

    Returns {setting: [old, new]} for what changed. The grading method and pass mark
    decide who has passed, so course completion is re-checked for the whole course.
    """
    changed = {}
    for key in SETTINGS:
        if key in values and getattr(quiz, key) != values[key]:
            changed[key] = [getattr(quiz, key), values[key]]
            setattr(quiz, key, values[key])
    quiz.edited_by_id = editor_id
    quiz.edited_at = utcnow()
    db.session.flush()
    if changed:
        record("quiz.settings", "quiz", quiz.id, actor_id=editor_id, data={"changed": changed})
        progress_recorded.send("quizzes", user_id=None, course_id=quiz.course_id)
    return changed
