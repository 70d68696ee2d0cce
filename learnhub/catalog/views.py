import functools

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select

from .. import fragments, reads
from ..extensions import db
from ..formatting import format_date
from .models import ContentPage, Lesson
from .services import course_by_slug, lesson_outline, lesson_page, mark_lesson_done

bp = Blueprint("catalog", __name__)


def _load_lesson(slug: str, lesson_slug: str):
    course = course_by_slug(slug) or abort(404)
    lesson = db.session.scalar(select(Lesson).where(
        Lesson.course_id == course.id, Lesson.slug == lesson_slug, Lesson.retired_at.is_(None)))
    if lesson is None:
        abort(404)
    return course, lesson


@bp.get("/courses/<slug>/<lesson_slug>")
@login_required
def lesson(slug: str, lesson_slug: str):
    page = lesson_page(slug, lesson_slug, current_user.id) or abort(404)
    done_label = _("Done on %(d)s", d=format_date(page.completed_at)) if page.completed_at else ""
    return fragments.page(
        "catalog/lesson.html", current_user.role, {"done_label": done_label},
        course_slug=page.course_slug, course_title=page.course_title, lesson_slug=page.lesson_slug,
        title=page.title, body_html=page.body_html, toc_html=page.toc_html, position=page.position,
        count=page.count, previous=page.previous, following=page.following, done=bool(page.completed_at))


@bp.post("/courses/<slug>/<lesson_slug>/done")
@login_required
def lesson_done(slug: str, lesson_slug: str):
    course, lesson = _load_lesson(slug, lesson_slug)
    if mark_lesson_done(current_user.id, lesson):
        flash(_("Lesson marked as done."), "success")
    db.session.commit()
    outline = lesson_outline(course)
    index = next(i for i, row in enumerate(outline) if row[0] == lesson.id)
    if request.form.get("then") == "next" and index + 1 < len(outline):
        return redirect(url_for("catalog.lesson", slug=course.slug, lesson_slug=outline[index + 1][1]))
    # Back to the buttons the reader pressed, at the end of the lesson, not to the top.
    return redirect(url_for("catalog.lesson", slug=course.slug, lesson_slug=lesson.slug, _anchor="lesson-actions"))


@bp.get("/glossary")
@login_required
def glossary():
    page = reads.first(_content_page_statement(), {"slug": "glossary"}) or abort(404)
    return fragments.page("catalog/page.html", current_user.role, {}, title=page.title,
                          body_html=page.body_html, toc_html=page.toc_html)


@functools.cache
def _content_page_statement():
    return select(ContentPage.title, ContentPage.body_html, ContentPage.toc_html).where(
        ContentPage.slug == bindparam("slug"))
