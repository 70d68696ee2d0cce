"""Certificate PDFs, the ZIP of a unit's certificates, an official's training record,
and the Open Badges 2.0 documents. Rendering only: no database writes."""
from __future__ import annotations

import hashlib
import io
import zipfile

import segno
from flask import current_app, render_template, url_for

from ..auth.models import User
from .models import Certificate

OB_CONTEXT = "https://w3id.org/openbadges/v2"


def qr_svg(data: str) -> str:
    return segno.make(data, error="m").svg_inline(scale=3, border=1, dark="#000", light="#fff")


def verify_url(cert: Certificate) -> str:
    return url_for("certificates.verify", code=cert.code, _external=True)


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it is heavy and only PDFs need it
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def certificate_pdf(cert: Certificate) -> bytes:
    url = verify_url(cert)
    html = render_template("certificates/pdf.html", cert=cert, snap=cert.snapshot, verify_url=url, qr=qr_svg(url))
    return _pdf(html)


def certificates_zip(certs: list[Certificate]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for cert in certs:
            name = f"{cert.user.username}-{cert.programme.code}-{cert.code}.pdf"
            archive.writestr(name, certificate_pdf(cert))
    return buffer.getvalue()


def training_record_pdf(user: User, record) -> bytes:
    return _pdf(render_template("certificates/record_pdf.html", user=user, record=record))


# --- Open Badges 2.0 (hosted verification) ---------------------------------

def issuer_json() -> dict:
    config = current_app.config
    data = {"@context": OB_CONTEXT, "type": "Issuer", "id": url_for("certificates.issuer", _external=True),
            "name": config["ISSUER_NAME"], "url": config.get("ISSUER_URL") or url_for("catalog.index", _external=True),
            "revocationList": url_for("certificates.revocations", _external=True)}
    if config.get("ISSUER_EMAIL"):
        data["email"] = config["ISSUER_EMAIL"]
    return data


def badge_class_json(programme) -> dict:
    return {"@context": OB_CONTEXT, "type": "BadgeClass",
            "id": url_for("certificates.badge_class", code=programme.code, _external=True),
            "name": programme.title,
            "description": programme.description or programme.title,
            "image": url_for("certificates.badge_image", code=programme.code, _external=True),
            "criteria": {"narrative": _criteria(programme)},
            "issuer": url_for("certificates.issuer", _external=True)}


def _criteria(programme) -> str:
    parts = [f"Hoàn thành khoá học: {c.title} (học hết các bài và đạt bài kiểm tra cuối khoá)."
             for c in programme.courses]
    if programme.requires_attendance:
        parts.insert(0, "Tham dự hội nghị tập huấn.")
    return " ".join(parts)


def recipient(cert: Certificate) -> dict:
    user = cert.user
    if user.email:
        kind, identity = "email", user.email.strip().lower()
    else:
        kind, identity = "url", url_for("certificates.verify", code=cert.code, _external=True)
    digest = hashlib.sha256((identity + cert.badge_salt).encode("utf-8")).hexdigest()
    return {"type": kind, "hashed": True, "salt": cert.badge_salt, "identity": f"sha256${digest}"}


def assertion_json(cert: Certificate) -> dict:
    data = {"@context": OB_CONTEXT, "type": "Assertion",
            "id": url_for("certificates.assertion", code=cert.code, _external=True),
            "recipient": recipient(cert),
            "badge": url_for("certificates.badge_class", code=cert.programme.code, _external=True),
            "verification": {"type": "HostedBadge"},
            "issuedOn": cert.issued_at.isoformat(timespec="seconds"),
            "evidence": verify_url(cert)}
    if cert.expires_at is not None:
        data["expires"] = cert.expires_at.isoformat(timespec="seconds")
    if cert.revoked_at is not None:
        data["revoked"] = True
        data["revocationReason"] = cert.revoke_reason
    return data
