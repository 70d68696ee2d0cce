"""Certificate PDFs, the ZIP of a unit's certificates, an official's training record,
and the Open Badges 2.0 documents. Rendering only: no database writes."""
from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, render_template, request, url_for

from ..auth.models import User
from ..pdf import render_pdf
from ..qr import qr_svg
from .models import Certificate

OB_CONTEXT = "https://w3id.org/openbadges/v2"


def verify_url(cert: Certificate) -> str:
    return url_for("certificates.verify", code=cert.code, _external=True)


def certificate_pdf(cert: Certificate) -> bytes:
    url = verify_url(cert)
    html = render_template("certificates/pdf.html", cert=cert, snap=cert.snapshot, verify_url=url, qr=qr_svg(url))
    return render_pdf(html)


def certificates_zip(certs: list[Certificate]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for cert in certs:
            name = f"{cert.user.username}-{cert.programme.code}-{cert.code}.pdf"
            archive.writestr(name, certificate_pdf(cert))
    return buffer.getvalue()


def training_record_pdf(user: User, record) -> bytes:
    return render_pdf(render_template("certificates/record_pdf.html", user=user, record=record))


# --- Open Badges 2.0 (hosted verification) ---------------------------------
# https://www.imsglobal.org/spec/ob/v2p0/ : every Badge Object carries the v2 @context, a type and
# an HTTP id at which it is served; the Assertion is verified by fetching its id ("HostedBadge"),
# which must be on the origin of the issuer Profile's id (the default verification policy).

def iso_datetime(moment: datetime) -> str:
    """OB 2.0 DateTime: ISO 8601 with a time zone indicator, published in UTC ("+00:00").
    Stored datetimes are UTC; a naive one (a backend that drops the zone) is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def issuer_email() -> str:
    """The issuer Profile must have an email (OB 2.0: id, type, name, url and email are required
    of an issuer). LEARNHUB_ISSUER_EMAIL should be set; until it is, a contact address on the
    issuer's own domain is published so that the Profile stays valid."""
    config = current_app.config
    if config.get("ISSUER_EMAIL"):
        return config["ISSUER_EMAIL"].strip()
    host = urlsplit(config.get("ISSUER_URL") or request.host_url).hostname or "localhost"
    return f"contact@{host}"


def issuer_json() -> dict:
    config = current_app.config
    return {"@context": OB_CONTEXT, "type": "Issuer", "id": url_for("certificates.issuer", _external=True),
            "name": config["ISSUER_NAME"],
            "url": config.get("ISSUER_URL") or url_for("progress.index", _external=True),
            "email": issuer_email(),
            "revocationList": url_for("certificates.revocations", _external=True)}


def badge_class_json(programme) -> dict:
    return {"@context": OB_CONTEXT, "type": "BadgeClass",
            "id": url_for("certificates.badge_class", code=programme.code, _external=True),
            "name": programme.title,
            "description": programme.description or programme.title,
            "image": url_for("certificates.badge_image", code=programme.code, _external=True),
            "criteria": {"narrative": _criteria(programme)},
            "issuer": url_for("certificates.issuer", _external=True)}


def _criteria(programme) -> str:
    parts = [f"Hoàn thành khóa học: {c.title} (học hết các bài và đạt bài kiểm tra cuối khóa)."
             for c in programme.courses]
    if programme.requires_attendance:
        parts.insert(0, "Tham dự hội nghị tập huấn.")
    return " ".join(parts) or programme.title


def recipient(cert: Certificate) -> dict:
    """IdentityObject, always hashed: identity = "sha256$" + hex(sha256(identity + salt))."""
    snapshot = cert.snapshot or {}
    email = snapshot["recipient_email"] if "recipient_email" in snapshot else (cert.user.email or "").strip().lower()
    if email:
        kind, identity = "email", email
    else:
        kind, identity = "url", url_for("certificates.verify", code=cert.code, _external=True)
    digest = hashlib.sha256((identity + cert.badge_salt).encode("utf-8")).hexdigest()
    return {"type": kind, "hashed": True, "salt": cert.badge_salt, "identity": f"sha256${digest}"}


def assertion_json(cert: Certificate) -> dict:
    """The hosted Assertion. A revoked one keeps its full body and adds revoked/revocationReason;
    the view answers it with 410 Gone (OB 2.0, "Revoking Hosted Assertions")."""
    data = {"@context": OB_CONTEXT, "type": "Assertion",
            "id": url_for("certificates.assertion", code=cert.code, _external=True),
            "recipient": recipient(cert),
            "badge": url_for("certificates.badge_class", code=cert.programme.code, _external=True),
            "verification": {"type": "HostedBadge"},
            "issuedOn": iso_datetime(cert.issued_at),
            # Evidence as an IRI: the public check page of this certificate.
            "evidence": verify_url(cert)}
    if cert.expires_at is not None:
        data["expires"] = iso_datetime(cert.expires_at)
    if cert.revoked_at is not None:
        data["revoked"] = True
        if cert.revoke_reason:
            data["revocationReason"] = cert.revoke_reason
    return data


def revocation_list_json(revoked: list[Certificate]) -> dict:
    entries = []
    for cert in revoked:
        entry = {"id": url_for("certificates.assertion", code=cert.code, _external=True)}
        if cert.revoke_reason:
            entry["revocationReason"] = cert.revoke_reason
        entries.append(entry)
    return {"@context": OB_CONTEXT, "type": "RevocationList",
            "id": url_for("certificates.revocations", _external=True),
            "issuer": url_for("certificates.issuer", _external=True),
            "revokedAssertions": entries}
