"""The committee's dashboard, its tables as CSV and XLSX, and its one-page PDF.

Every page and file goes through ``_selection``: the programme, and a unit the viewer may
see (403 otherwise); the figures themselves are counted within the viewer's scope."""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from flask import Blueprint, abort, current_app, make_response, render_template, request, send_file
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..audit.services import chain_head
from ..auth.decorators import roles_required
from ..auth.models import Role
from ..auth.scope import sees_unit
from ..catalog.services import active_courses
from ..config import VIETNAM_TZ
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from . import charts, tally  # noqa: F401 (tally: its listeners keep the stored counts in step)
from .exports import XLSX_MIMETYPE, table_csv, table_xlsx
from .figures import (current_programme, dashboard, officials_detail, programmes, required_courses, top_unit,
                      trail_to, weak_topics)
from .services import officials_page
from .tables import (lagging_table, officials_table, sessions_table, title_line, units_table, weak_table,
                     weekly_table)

SHOWN_SESSIONS = 30  # on the page; the exports list every session

bp = Blueprint("reports", __name__, url_prefix="/reports")

_VIEWERS = (Role.COMMITTEE, Role.ADMIN, Role.TRAINER)
PER_PAGE = 50
PDF_BARS = 15


def _today() -> date:
    return utcnow().astimezone(VIETNAM_TZ).date()


def _not_found(message: str):
    abort(make_response(render_template("errors/error.html", code=404, title=_("Not found"), message=message), 404))


def _selection():
    """(programmes to choose from, the programme, the unit shown). ``year`` narrows the
    choice to the programmes of that year. Unknown codes: 404 with a message; a unit
    outside the viewer's scope: 403."""
    choices = programmes()
    year = request.args.get("year", type=int)
    if year is not None:
        choices = [p for p in choices if p.created_at.year == year]
        if not choices:
            _not_found(_("There is no programme of the year %(year)d.", year=year))
    code = (request.args.get("program") or "").strip()
    programme = next((p for p in choices if p.code == code), None) if code else None
    if code and programme is None and year is None:
        _not_found(_("There is no programme with the code %(code)s.", code=code))
    if programme is None:  # none asked for, or one of another year than the one chosen
        programme = current_programme(choices, _today())
    unit_code = (request.args.get("unit") or "").strip()
    if unit_code:
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
        if unit is None:
            _not_found(_("There is no unit with the code %(code)s.", code=unit_code))
        if not sees_unit(current_user, unit):
            abort(403)
    else:
        unit = top_unit(current_user)
    return choices, programme, unit


def _scope_label(unit: OrgUnit | None) -> str:
    return unit.label if unit is not None else _("All units")


def _sort_args():
    key = (request.args.get("sort") or "").strip()[:20] or None
    return key, request.args.get("dir") == "desc"


def _charts(board, units):
    date_format = lambda d: format_date(d, "dd/MM")  # noqa: E731
    main = charts.rate_bars(
        "chart-certified", _("Certification rate by unit"),
        [(r.values["unit"], r.values["valid"].percent, r.values["valid"].count, r.values["enrolled"])
         for r in units.rows],
        _("Share of enrolled officials holding a valid certificate, highest first."))
    weekly = charts.progress_lines(
        "chart-weekly", _("Progress over time"),
        [(p.day, p.completed, p.certified) for p in board.weeks],
        (_("Completed every required course"), _("Certified")), date_format,
        _("Officials at the end of each week since the conference."))
    legend = [_("Present"), _("Late"), _("Excused"), _("Absent")]
    sessions = charts.stacked_bars(
        "chart-sessions", _("Attendance by conference session"),
        [(s.title, [s.marks.get(k, 0) for k in ("present", "late", "excused", "absent")])
         for s in board.sessions[-SHOWN_SESSIONS:]],
        legend, _("Officials in scope marked at each session."))
    return main, weekly, sessions


@bp.get("/")
@roles_required(*_VIEWERS)
def completion():
    choices, programme, unit = _selection()
    years = sorted({p.created_at.year for p in programmes()}, reverse=True)
    if programme is None:
        return render_template("reports/dashboard.html", choices=choices, programme=None, board=None)
    board = dashboard(current_user, programme, unit)
    sort, descending = _sort_args()
    units = units_table(board).sort(sort, descending)
    officials = None
    page = max(request.args.get("page", 1, type=int), 1)
    total_officials = 0
    if not board.rows and unit is not None:  # a commune: its officials, one by one
        rows, total_officials = officials_detail(current_user, programme, unit, page, PER_PAGE, board.now)
        officials = officials_table(rows, board.courses, board.quiz_courses)
    main_chart, weekly_chart, sessions_chart = _charts(board, units)
    # A whole country holds hundreds of sessions (one per district): the page shows the most
    # recent, the CSV and XLSX all of them, and each district's page its own.
    sessions = sessions_table(board)
    shown_sessions = replace(sessions, rows=sessions.rows[-SHOWN_SESSIONS:])
    sessions_hidden = len(sessions.rows) - len(shown_sessions.rows)
    return render_template(
        "reports/dashboard.html", choices=choices, programme=programme, board=board, unit=unit,
        years=years, year=request.args.get("year", type=int),
        units=units, lagging=lagging_table(board), sessions=shown_sessions, sessions_hidden=sessions_hidden,
        weekly=weekly_table(board),
        officials=officials, page=page, per_page=PER_PAGE, total_officials=total_officials,
        main_chart=main_chart, weekly_chart=weekly_chart, sessions_chart=sessions_chart,
        sort=sort, descending=descending)


@bp.get("/weak-topics")
@roles_required(*_VIEWERS)
def weak():
    choices, programme, unit = _selection()
    if programme is None:
        abort(404)
    tables = [weak_table(w, i) for i, w in enumerate(weak_topics(current_user, programme, unit))]
    sort, descending = _sort_args()
    tables = [t.sort(sort, descending) for t in tables]
    top = top_unit(current_user)
    return render_template("reports/weak.html", choices=choices, programme=programme, unit=unit,
                           tables=tables, trail=trail_to(unit, top), sort=sort, descending=descending)


def _table(name: str, programme, unit):
    """The named table of the dashboard, with the same figures as the page."""
    if name.startswith("weak-"):
        weak = weak_topics(current_user, programme, unit)
        index = name.removeprefix("weak-")
        if not index.isdigit() or not 1 <= int(index) <= len(weak):
            abort(404)
        return weak_table(weak[int(index) - 1], int(index) - 1)
    if name == "officials":
        rows, _total = officials_detail(current_user, programme, unit, page=None)
        courses, quiz_courses = required_courses(programme)
        return officials_table(rows, courses, quiz_courses)
    builders = {"completion": units_table, "lagging": lagging_table, "sessions": sessions_table,
                "weekly": weekly_table}
    if name not in builders:
        abort(404)
    return builders[name](dashboard(current_user, programme, unit))


def _filename(name: str, programme, unit, ext: str) -> str:
    return f"{name}_{programme.code}_{unit.code if unit else 'all'}_{_today().isoformat()}.{ext}"


@bp.get("/<name>.<any(csv, xlsx):fmt>")
@roles_required(*_VIEWERS)
def export(name: str, fmt: str):
    _choices, programme, unit = _selection()
    if programme is None:
        abort(404)
    sort, descending = _sort_args()
    table = _table(name, programme, unit).sort(sort, descending)
    if fmt == "csv":
        body, mimetype = table_csv(table), "text/csv; charset=utf-8"
    else:
        title = title_line(programme.title, _scope_label(unit), _today())
        body, mimetype = table_xlsx(table, title), XLSX_MIMETYPE
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True,
                     download_name=_filename(name, programme, unit, fmt))


@bp.get("/dashboard.pdf")
@roles_required(*_VIEWERS)
def pdf():
    from weasyprint import HTML  # imported late: it is heavy and only this file needs it

    _choices, programme, unit = _selection()
    if programme is None:
        abort(404)
    board = dashboard(current_user, programme, unit)
    units = units_table(board)
    shown = units
    if len(units.rows) > PDF_BARS:  # one page: the units with the lowest rates
        shown = replace(units, rows=sorted(units.rows, key=lambda r: r.values["valid"].fraction or 0)[:PDF_BARS])
    main_chart, _weekly, _sessions = _charts(board, shown)
    html = render_template("reports/dashboard_pdf.html", programme=programme, board=board, unit=unit,
                           scope=_scope_label(unit), units=units, shown=len(shown.rows), lagging=lagging_table(board),
                           main_chart=main_chart, head=str(chain_head()), today=_today())
    body = HTML(string=html, base_url=current_app.root_path).write_pdf()
    return send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=False,
                     download_name=_filename("dashboard", programme, unit, "pdf"))


@bp.get("/officials")
@roles_required(*_VIEWERS)
def officials():
    page = max(request.args.get("page", 1, type=int), 1)
    unit_id = request.args.get("unit", type=int)
    unit = None
    if unit_id is not None:
        unit = db.session.get(OrgUnit, unit_id) or abort(404)
        if not sees_unit(current_user, unit):
            abort(403)
    q = (request.args.get("q") or "").strip()[:100]
    rows, total = officials_page(current_user, page, unit_id=unit_id, query=q)
    return render_template("reports/officials.html", rows=rows, total=total, page=page,
                           per_page=50, unit=unit, q=q, courses=active_courses())
