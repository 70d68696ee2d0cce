"""The step after any progress event: refresh the stored completion, then hand on to
certificates. Connected to ``learnhub.signals.progress_recorded`` when this module is
imported (``create_app`` does), and run in the transaction of the event's cause."""
from __future__ import annotations

from ..signals import completion_refreshed, progress_recorded
from .rules import completion_stored, sync_completions


@progress_recorded.connect
def after_progress(sender, user_id: int | None = None, course_id: int | None = None, changed: bool = True,
                   **_) -> None:
    if not changed and completion_stored():
        # A content sync that changed nothing: nothing to recompute (seconds at country
        # scale), unless completion was never stored (the first sync after the upgrade).
        return
    if user_id is not None and course_id is None:
        users = {user_id}  # e.g. an attendance mark: no course changed, the programme rule may now be met
    else:
        added, _removed = sync_completions(course_id=course_id, user_id=user_id)
        users = {user_id} if user_id is not None else {u for u, _c in added}
    if users:
        completion_refreshed.send("progress", user_ids=users)
