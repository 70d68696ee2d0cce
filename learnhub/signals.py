"""The events one feature announces and another acts on.

Why signals rather than one function called from each feature: the features
that record progress (catalog: a lesson marked done; quizzes: an attempt graded,
an essay marked, quiz settings changed; attendance: a mark; materials: a sync)
sit *below* the features that react (progress keeps course completion, then
certificates issues what is now earned). A direct call would make the lower
features import the higher ones and close an import circle. As in Indico, the
cause flushes its rows and then sends the signal; receivers run synchronously
in the same database transaction, so the certificate commits with its cause.

Two hops, in this order:

1. ``progress_recorded`` — sent by the cause, received only by
   ``progress.step``, which refreshes the stored course completion;
2. ``completion_refreshed`` — sent by ``progress.step`` afterwards, received by
   ``certificates``, which issues a certificate if the programme rule is met.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

progress_recorded = _signals.signal("progress-recorded", doc="""
Something that may change an official's progress was recorded and flushed.

Keyword arguments: ``user_id`` (``None``: any official) and ``course_id``
(``None``: the event is not about one course, e.g. an attendance mark; with
``user_id=None`` too, every course is re-checked, e.g. after a content sync); ``changed``
(default true) false when a content sync found nothing new.
""")

completion_refreshed = _signals.signal("completion-refreshed", doc="""
Course completion is up to date for ``user_ids`` (a set of user ids): the
officials whose certificate eligibility may have changed.
""")
