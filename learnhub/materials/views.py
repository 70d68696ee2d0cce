"""The materials area (/materials) for trainers and admins, and course attachments for learners."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.decorators import roles_required
from ..auth.models import Role
from ..catalog.loader import ContentError
from ..content import course_links, render_markdown
from ..extensions import csrf, db
from ..quizzes.gift import GiftError, parse_gift
from . import services, snapshots
from .uploads import IMAGE_TYPES, MAX_FILE_BYTES, UploadRefused, inspect_upload

bp = Blueprint("materials", __name__)
_STAFF = (Role.TRAINER, Role.ADMIN)
# The upload form carries one file of at most MAX_FILE_BYTES plus a few small fields.
UPLOAD_REQUEST_LIMIT = MAX_FILE_BYTES + 256 * 1024


def _draft_links(slug: str, snapshot: dict):
    base = url_for("materials.draft_file", slug=slug, name="x")[:-1]
    return course_links(base, snapshot["attachments"])


def _preview(slug: str, snapshot: dict, text: str) -> str:
    """Markdown as officials will see it: the same pipeline, attachments from the draft."""
    body = snapshots.split_body(text)
    return render_markdown(body, _draft_links(slug, snapshot)).html


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str


_NOUN = "what"  # a parameter that is itself a marked message (learnhub.messages)


def _message(problem) -> str:
    """A parser's problem in the reader's language (see learnhub.messages)."""
    if not problem.template:
        return problem.message
    params = dict(problem.params)
    if _NOUN in params:
        params[_NOUN] = _(params[_NOUN])
    return _(problem.template, **params)


def _problems(problems) -> list[Problem]:
    return [Problem(p.file, p.line, _message(p)) for p in problems]


def _problem_lines(problems, name: str) -> list[tuple[int, str]]:
    """(line, message) of the problems in the file being edited, else of all of them with their file."""
    own = [p for p in problems if p.file == name or p.file.endswith("/" + name)]
    if own:
        return [(p.line, _message(p)) for p in own]
    return [(p.line, f"{p.file}: {_message(p)}") for p in problems]


def _draft_or_404(slug: str) -> dict:
    """A copy of the draft to change (started from the latest version when there is none)."""
    _snapshot_or_404(slug)
    return services.editable_draft(slug)


def _snapshot_or_404(slug: str) -> dict:
    snapshot = services.current_snapshot(slug)
    if snapshot is None:
        abort(404)
    return snapshot


def _problems_flash(exc: ContentError) -> None:
    flash(_("Nothing was changed: the course has problems to fix first.") + " "
          + "; ".join(f"{p.file}:{p.line}: {p.message}" for p in _problems(exc.problems[:5])), "error")


# --- list and upload -------------------------------------------------------------

@bp.get("/materials")
@roles_required(*_STAFF)
def index():
    return _index_page()


def _index_page(status: int = 200, **extra):
    return render_template("materials/index.html", states=services.course_states(),
                           upload_limit=MAX_FILE_BYTES // (1024 * 1024), **extra), status


@bp.post("/materials/upload")
@csrf.exempt  # checked below, once the larger size limit of this form is in force
@roles_required(*_STAFF)
def upload():
    # The site's limit (MAX_CONTENT_LENGTH) is raised for this form only: one file of up to
    # MAX_FILE_BYTES. It must be set before the body is read, which the CSRF check does.
    request.max_content_length = UPLOAD_REQUEST_LIMIT
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    stored = request.files.get("file")
    target = request.form.get("course") or None
    if stored is None or not stored.filename:
        return _index_page(422, refusal=_("Choose a file to upload."))
    data = stored.read(MAX_FILE_BYTES + 1)
    try:
        slug = services.apply_upload(inspect_upload(stored.filename, data), target, current_user)
    except (UploadRefused, services.MaterialsError) as exc:
        db.session.rollback()
        return _index_page(422, refusal=str(exc))
    except ContentError as exc:
        db.session.rollback()
        return _index_page(422, problems=_problems(exc.problems))
    db.session.commit()
    flash(_("Uploaded into the draft of %(slug)s. Officials see it only once it is published.", slug=slug),
          "success")
    return redirect(url_for("materials.course", slug=slug))


# --- one course ---------------------------------------------------------------------

@bp.get("/materials/<slug>")
@roles_required(*_STAFF)
def course(slug: str):
    snapshot = _snapshot_or_404(slug)
    mc = services.managed_course(slug)
    bank = snapshot.get("bank")
    versions = services.versions(slug)
    return render_template(
        "materials/course.html", slug=slug, snapshot=snapshot, mc=mc,
        title=snapshots.front_matter(snapshot["files"].get("course.md", "")).get("title", slug),
        lessons=snapshots.ordered_lessons(snapshot), versions=versions,
        questions=snapshots.gift_blocks(bank["text"]) if bank else [], bank=bank,
        authors={v.id: services.author_name(v.author_id) for v in versions})


def _edit_file(slug: str, name: str, template_title: str):
    snapshot = _snapshot_or_404(slug)
    if name not in snapshot["files"]:
        abort(404)
    text = request.form.get("text", snapshot["files"][name]) if request.method == "POST" else snapshot["files"][name]
    action = request.form.get("action", "preview")
    preview_html = None
    problems = []
    status = 200
    if request.method == "POST" and action == "save":
        draft = snapshots.clone(snapshot)
        draft["files"][name] = text
        try:
            services.save_draft(slug, draft, current_user)
        except ContentError as exc:
            db.session.rollback()
            problems = _problem_lines(exc.problems, name)
            status = 422
        else:
            db.session.commit()
            flash(_("Saved in the draft. Officials see it only once it is published."), "success")
            return redirect(url_for("materials.course", slug=slug))
    if request.method == "POST":
        preview_html = _preview(slug, snapshot, text)
    return render_template("materials/edit.html", slug=slug, name=name, text=text, heading=template_title,
                           preview_html=preview_html, problems=problems), status


@bp.route("/materials/<slug>/files/<name>", methods=["GET", "POST"])
@roles_required(*_STAFF)
def edit_file(slug: str, name: str):
    heading = _("Course description and settings") if name == "course.md" else _("Lesson")
    return _edit_file(slug, name, heading)


@bp.post("/materials/<slug>/preview")
@roles_required(*_STAFF)
def live_preview(slug: str):
    """The live preview's fragment (materials.js); without script, the form's Preview button."""
    snapshot = _snapshot_or_404(slug)
    return jsonify(html=_preview(slug, snapshot, request.form.get("text", "")))


@bp.post("/materials/<slug>/lessons")
@roles_required(*_STAFF)
def add_lesson(slug: str):
    title = (request.form.get("title") or "").strip()
    if not title:
        flash(_("Give the new lesson a title."), "error")
        return redirect(url_for("materials.course", slug=slug))
    draft = _draft_or_404(slug)
    name, order = snapshots.new_lesson_name(draft, title)
    draft["files"][name] = snapshots.lesson_template(title, order) + "\n" + _("Write the lesson here.") + "\n"
    try:
        services.save_draft(slug, draft, current_user)
    except ContentError:
        db.session.rollback()
        flash(_("This title cannot be used for a lesson; try another."), "error")
        return redirect(url_for("materials.course", slug=slug))
    db.session.commit()
    return redirect(url_for("materials.edit_file", slug=slug, name=name))


@bp.post("/materials/<slug>/files/<name>/move")
@roles_required(*_STAFF)
def move_lesson(slug: str, name: str):
    draft = _draft_or_404(slug)
    step = -1 if request.form.get("direction") == "up" else 1
    if snapshots.move_lesson(draft, name, step):
        try:
            services.save_draft(slug, draft, current_user)
        except ContentError as exc:
            db.session.rollback()
            _problems_flash(exc)
            return redirect(url_for("materials.course", slug=slug))
        db.session.commit()
    return redirect(url_for("materials.course", slug=slug) + "#materials-lessons")


@bp.post("/materials/<slug>/files/<name>/retire")
@roles_required(*_STAFF)
def retire_lesson(slug: str, name: str):
    draft = _draft_or_404(slug)
    if name == "course.md" or name not in draft["files"]:
        abort(404)
    del draft["files"][name]
    try:
        services.save_draft(slug, draft, current_user)
    except ContentError as exc:
        db.session.rollback()
        _problems_flash(exc)
        return redirect(url_for("materials.course", slug=slug))
    db.session.commit()
    flash(_("The lesson is removed from the draft. Once published it is retired; progress on it is kept."),
          "success")
    return redirect(url_for("materials.course", slug=slug) + "#materials-lessons")


@bp.route("/materials/<slug>/questions/<int:number>", methods=["GET", "POST"])
@roles_required(*_STAFF)
def edit_question(slug: str, number: int):
    snapshot = _snapshot_or_404(slug)
    bank = snapshot.get("bank") or abort(404)
    blocks = snapshots.gift_blocks(bank["text"])
    if not 1 <= number <= len(blocks):
        abort(404)
    block = blocks[number - 1]
    text = request.form.get("text", block.text) if request.method == "POST" else block.text
    problems: list[tuple[int, str]] = []
    if request.method == "POST":
        try:
            parse_gift(text, "question")
        except GiftError as exc:
            problems = [(p.line, _message(p)) for p in exc.problems]
        if not problems:
            draft = snapshots.clone(snapshot)
            draft["bank"]["text"] = snapshots.replace_gift_block(bank["text"], block, text)
            try:
                services.save_draft(slug, draft, current_user)
            except ContentError as exc:
                db.session.rollback()
                problems = [(0, f"{p.file}:{p.line}: {p.message}") for p in _problems(exc.problems)]
            else:
                db.session.commit()
                flash(_("Question saved in the draft."), "success")
                return redirect(url_for("materials.course", slug=slug) + "#materials-questions")
    return render_template("materials/question.html", slug=slug, number=number, text=text, bank=bank["name"],
                           problems=problems), 422 if problems else 200


# --- versions ----------------------------------------------------------------------

@bp.post("/materials/<slug>/publish")
@roles_required(*_STAFF)
def publish(slug: str):
    _snapshot_or_404(slug)
    try:
        created = services.publish(slug, current_user, request.form.get("note", ""))
    except services.MaterialsError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("materials.course", slug=slug) + "#materials-publish")
    except ContentError as exc:
        db.session.rollback()
        _problems_flash(exc)
        return redirect(url_for("materials.course", slug=slug))
    db.session.commit()
    flash(_("Version %(n)s published: officials now see it.", n=created.number), "success")
    return redirect(url_for("materials.course", slug=slug))


@bp.post("/materials/<slug>/rollback")
@roles_required(*_STAFF)
def rollback(slug: str):
    _snapshot_or_404(slug)
    try:
        number = int(request.form.get("number", ""))
    except ValueError:
        abort(400)
    try:
        created = services.rollback(slug, number, current_user, request.form.get("note", ""))
    except services.MaterialsError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("materials.course", slug=slug) + "#materials-versions")
    except ContentError as exc:
        db.session.rollback()
        _problems_flash(exc)
        return redirect(url_for("materials.course", slug=slug))
    db.session.commit()
    flash(_("Version %(old)s published again as version %(n)s.", old=number, n=created.number), "success")
    return redirect(url_for("materials.course", slug=slug))


@bp.post("/materials/<slug>/discard")
@roles_required(*_STAFF)
def discard(slug: str):
    try:
        services.discard_draft(slug)
    except services.MaterialsError as exc:
        flash(str(exc), "error")
        return redirect(url_for("materials.course", slug=slug))
    db.session.commit()
    flash(_("Draft discarded."), "success")
    return redirect(url_for("materials.course", slug=slug))


@bp.get("/materials/<slug>/diff")
@roles_required(*_STAFF)
def diff(slug: str):
    _snapshot_or_404(slug)
    rows = services.versions(slug)

    def side(value: str | None, default):
        if value == "draft":
            mc = services.managed_course(slug)
            return (mc.draft, _("draft")) if mc and mc.draft is not None else abort(404)
        if value is None:
            return default
        try:
            found = services.version(slug, int(value))
        except ValueError:
            abort(404)
        return (found.snapshot, f"v{found.number}") if found else abort(404)

    newest = (rows[0].snapshot, f"v{rows[0].number}") if rows else (snapshots.empty(), "")
    previous = (rows[1].snapshot, f"v{rows[1].number}") if len(rows) > 1 else (snapshots.empty(), "v0")
    old, old_label = side(request.args.get("from"), previous)
    new, new_label = side(request.args.get("to"), newest)
    return render_template("materials/diff.html", slug=slug, files=snapshots.diff(old, new, old_label, new_label),
                           old_label=old_label, new_label=new_label, versions=rows,
                           has_draft=bool(services.managed_course(slug) and services.managed_course(slug).draft))


# --- files -----------------------------------------------------------------------------

def _send(found, name: str) -> Response:
    if found is None:
        abort(404)
    blob, content_type = found
    response = Response(blob.data, mimetype=content_type)
    disposition = "inline" if content_type in IMAGE_TYPES else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    response.set_etag(blob.sha256)
    return response.make_conditional(request)


@bp.get("/courses/<slug>/files/<name>")
@login_required
def published_file(slug: str, name: str):
    """A published course's attachment: for anyone who may read the course."""
    return _send(services.published_attachment(slug, name), name)


@bp.get("/materials/<slug>/draft/files/<name>")
@roles_required(*_STAFF)
def draft_file(slug: str, name: str):
    return _send(services.draft_attachment(slug, name), name)
