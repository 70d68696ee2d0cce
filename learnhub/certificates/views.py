from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import fragments
from ..auth.decorators import roles_required
from ..auth.models import Role, User
from ..auth.scope import can_view_user, sees_unit, unit_condition
from ..extensions import db, limiter
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..programmes.models import TrainingProgramme
from ..programmes.services import enrolled_officials, programme_by_code
from ..progress.rules import eligibility, progress_by_course
from . import documents
from .models import Certificate
from .standing import programme_standings
from .services import (
    CertificateError, can_see_certificate, certificate_by_code, certificate_cards, certificates_in_scope, issue_by_hand, revoke,
    training_record,
)

bp = Blueprint("certificates", __name__)

LD_JSON = "application/ld+json"


def _cors(response: Response) -> Response:
    # Badge validators and backpacks fetch these documents from other origins.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _json(data: dict, status: int = 200) -> Response:
    """A Badge Object: application/ld+json by default, application/json when that is all the
    client accepts (OB 2.0, "Setting Content-Type"), readable from any origin."""
    response = jsonify(data)
    response.status_code = status
    best = request.accept_mimetypes.best_match([LD_JSON, "application/json"], default=LD_JSON)
    response.headers["Content-Type"] = best
    response.vary.add("Accept")
    return _cors(response)


def _programme(code: str) -> TrainingProgramme:
    return programme_by_code(code) or abort(404)


# --- public ---------------------------------------------------------------

def _verify_limit() -> str:
    return current_app.config["RATELIMIT_VERIFY"]


# One budget per address for both ways of checking a code.
_verify_limited = limiter.shared_limit(_verify_limit, scope="verify")


@bp.get("/verify")
@_verify_limited
def verify_form():
    code = (request.args.get("code") or "").strip()
    if code:
        cert = certificate_by_code(code)
        # Found however it was typed: show it under its printed spelling.
        return redirect(url_for("certificates.verify", code=cert.code if cert else code.upper()[:60]))
    return render_template("certificates/verify_form.html")


@bp.get("/verify/<code>")
@_verify_limited
def verify(code: str):
    cert = certificate_by_code(code)
    status = cert.status(utcnow()) if cert else None
    return render_template("certificates/verify.html", cert=cert, status=status, code=code), (200 if cert else 404)


@bp.get("/badges/issuer")
def issuer():
    return _json(documents.issuer_json())


@bp.get("/badges/programmes/<code>")
def badge_class(code: str):
    return _json(documents.badge_class_json(_programme(code)))


@bp.get("/badges/programmes/<code>/image.svg")
def badge_image(code: str):
    svg = render_template("certificates/badge.svg", programme=_programme(code))
    return _cors(Response(svg, mimetype="image/svg+xml"))


@bp.get("/badges/assertions/<code>")
def assertion(code: str):
    cert = certificate_by_code(code) or abort(404)
    if code != cert.code:
        # The Assertion's id is the URL it is served at: send other spellings of the code there.
        return _cors(redirect(url_for("certificates.assertion", code=cert.code), 301))
    # A revoked hosted Assertion answers 410 Gone; its body still says revoked, and why.
    return _json(documents.assertion_json(cert), 410 if cert.revoked_at else 200)


@bp.get("/badges/revocations")
def revocations():
    revoked = db.session.scalars(select(Certificate).where(Certificate.revoked_at.is_not(None))
                                 .order_by(Certificate.revoked_at, Certificate.id)).all()
    return _json(documents.revocation_list_json(list(revoked)))


# --- holders and staff ----------------------------------------------------

@bp.get("/")
@login_required
def home():
    """The home page: for an official, what is left before each certificate, then the courses."""
    now = utcnow()
    progress = progress_by_course(current_user.id)
    # A tuple of frozen values: the standings are a cached fragment keyed by them.
    standings = tuple(programme_standings(current_user, now, progress)) if current_user.has_role(Role.OFFICIAL) else ()
    return fragments.page("certificates/home.html", current_user.role, {"full_name": current_user.full_name},
                          standings=tuple(standings), progress=progress)


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/certificates/<code>.pdf")
@login_required
def pdf(code: str):
    cert = certificate_by_code(code)
    if cert is None or not can_see_certificate(current_user, cert):
        abort(404)
    return _pdf_response(documents.certificate_pdf(cert), f"chung-nhan-{cert.code}.pdf")


@bp.get("/my/certificates")
@login_required
def mine():
    # The page lists the certificates only; the whole training record is the PDF's.
    return fragments.page("certificates/mine.html", current_user.role, {},
                          certificates=certificate_cards(current_user.id, utcnow()))


@bp.get("/my/record.pdf")
@login_required
def my_record():
    return _pdf_response(documents.training_record_pdf(current_user, training_record(current_user)),
                         f"ho-so-dao-tao-{current_user.username}.pdf")


def _programme_page(programme: TrainingProgramme, outcome=None, status: int = 200):
    query = enrolled_officials(programme).where(unit_condition(current_user))
    officials = db.session.scalars(query.order_by(OrgUnit.path, User.full_name).limit(500)).all()
    ids = [u.id for u in officials]
    # Every certificate of these officials, valid or not: a revoked one stays listed with its reason.
    held: dict[int, list[Certificate]] = {}
    for cert in db.session.scalars(certificates_in_scope(current_user, programme)
                                   .where(Certificate.user_id.in_(ids)).order_by(Certificate.issued_at)):
        held.setdefault(cert.user_id, []).append(cert)
    rows = []
    for user in officials:
        certs = held.get(user.id, [])
        active = next((c for c in certs if c.revoked_at is None), None)
        rows.append((user, active, [c for c in certs if c.revoked_at is not None],
                     eligibility(user, programme) if active is None else None))
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_({u.unit_id for u in officials}))).all()
    courses = {c.id: c.title for c in programme.courses}
    return render_template("certificates/programme.html", programme=programme, rows=rows, now=utcnow(),
                           units=sorted(units, key=lambda u: u.path), courses=courses, outcome=outcome,
                           can_issue=current_user.has_role(Role.TRAINER, Role.ADMIN)), status


@bp.get("/programmes/<code>/certificates")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def programme_certificates(code: str):
    return _programme_page(_programme(code))


@bp.post("/programmes/<code>/certificates/issue")
@roles_required(Role.TRAINER, Role.ADMIN)
def issue_batch(code: str):
    programme = _programme(code)
    ids = [int(v) for v in request.form.getlist("user") if v.isdigit() and len(v) < 19]
    users = [u for u in db.session.scalars(select(User).where(User.id.in_(ids), User.role == Role.OFFICIAL.value))
             if can_view_user(current_user, u)]
    try:
        outcome = issue_by_hand(users, programme, current_user, override=request.form.get("override") == "1",
                                reason=request.form.get("override_reason", ""))
    except CertificateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _programme_page(programme, status=400)
    db.session.commit()
    done = len(outcome.issued) + len(outcome.overridden)
    flash(_("%(n)d certificates issued.", n=done), "success" if done else "info")
    if outcome.not_eligible:
        return _programme_page(programme, outcome)
    return redirect(url_for("certificates.programme_certificates", code=code))


@bp.post("/certificates/<code>/revoke")
@roles_required(Role.TRAINER, Role.ADMIN)
def revoke_view(code: str):
    cert = certificate_by_code(code)
    if cert is None or not can_see_certificate(current_user, cert):
        abort(404)
    try:
        revoke(cert, current_user, request.form.get("reason", ""))
    except CertificateError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Certificate %(c)s revoked.", c=cert.code), "success")
    return redirect(url_for("certificates.programme_certificates", code=cert.programme.code))


@bp.get("/programmes/<code>/units/<int:unit_id>/certificates.zip")
@roles_required(Role.TRAINER, Role.ADMIN, Role.COMMITTEE)
def unit_zip(code: str, unit_id: int):
    programme = _programme(code)
    unit = db.session.get(OrgUnit, unit_id) or abort(404)
    if not sees_unit(current_user, unit):
        abort(403)
    certs = db.session.scalars(certificates_in_scope(current_user, programme, unit)
                               .where(Certificate.revoked_at.is_(None))).all()
    if not certs:
        flash(_("No valid certificate in this unit yet."), "info")
        return redirect(url_for("certificates.programme_certificates", code=code))
    data = documents.certificates_zip(list(certs))
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="chung-nhan-{programme.code}-{unit.code}.zip"'})
