"""An official's progress: when a course is complete, whether a programme's rule is met,
and the one step that runs after anything that may change either.

Layering (low → high): catalog, quizzes, attendance, programmes → progress → certificates.
The features below announce events with ``learnhub.signals.progress_recorded``;
``progress.step`` refreshes the stored completion and hands on to certificates.
"""
