import csv
import io

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.models import Role
from ..auth.scope import sees_unit
from ..catalog.services import active_courses
from ..extensions import db
from ..orgs.models import OrgUnit
from ..spreadsheets import safe_row
from .services import completion_by_unit, completion_table, officials_page

bp = Blueprint("reports", __name__, url_prefix="/reports")

_VIEWERS = (Role.COMMITTEE, Role.ADMIN, Role.TRAINER)


@bp.get("/")
@roles_required(*_VIEWERS)
def completion():
    return render_template("reports/completion.html", report=completion_by_unit(current_user))


@bp.get("/completion.<fmt>")
@roles_required(*_VIEWERS)
def completion_export(fmt: str):
    header, rows = completion_table(completion_by_unit(current_user))
    header, rows = safe_row(header), [safe_row(r) for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        # A BOM so that Excel opens the Vietnamese text as UTF-8.
        body, mimetype = ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        from openpyxl import Workbook
        book = Workbook()
        sheet = book.active
        sheet.title = "Completion"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "C2"
        buffer = io.BytesIO()
        book.save(buffer)
        body = buffer.getvalue()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=completion.{fmt}"})


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
