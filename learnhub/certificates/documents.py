"""Certificate PDFs, the ZIP of a unit's certificates, an official's training record,
and the Open Badges 2.0 documents. Rendering only: no database writes."""
from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, render_template

from ..auth.models import User
from ..pdf import render_pdf
from ..qr import qr_svg
from ..urls import external_url
from .models import Certificate

OB_CONTEXT = "https://w3id.org/openbadges/v2"


def verify_url(cert: Certificate) -> str:
    return external_url("certificates.verify", code=cert.code)


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
    host = urlsplit(config.get("ISSUER_URL") or external_url("certificates.home")).hostname or "localhost"
    return f"contact@{host}"


def issuer_json() -> dict:
    config = current_app.config
    return {"@context": OB_CONTEXT, "type": "Issuer", "id": external_url("certificates.issuer"),
            "name": config["ISSUER_NAME"],
            "url": config.get("ISSUER_URL") or external_url("certificates.home"),
            "email": issuer_email(),
            "revocationList": external_url("certificates.revocations")}


def badge_class_json(programme) -> dict:
    return {"@context": OB_CONTEXT, "type": "BadgeClass",
            "id": external_url("certificates.badge_class", code=programme.code),
            "name": programme.title,
            "description": programme.description or programme.title,
            "image": external_url("certificates.badge_image", code=programme.code),
            "criteria": {"narrative": _criteria(programme)},
            "issuer": external_url("certificates.issuer")}


PUBLIC_REVOCATION_REASON = "Revoked by the issuer / Đã bị đơn vị cấp thu hồi"


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
        kind, identity = "url", external_url("certificates.verify", code=cert.code)
    digest = hashlib.sha256((identity + cert.badge_salt).encode("utf-8")).hexdigest()
    return {"type": kind, "hashed": True, "salt": cert.badge_salt, "identity": f"sha256${digest}"}


def assertion_json(cert: Certificate) -> dict:
    """The hosted Assertion. A revoked one keeps its full body and adds ``revoked``; the view
    answers it with 410 Gone (OB 2.0, "Revoking Hosted Assertions"). The trainer's reason is
    written about a person and stays internal: public JSON carries only a fixed phrase."""
    data = {"@context": OB_CONTEXT, "type": "Assertion",
            "id": external_url("certificates.assertion", code=cert.code),
            "recipient": recipient(cert),
            "badge": external_url("certificates.badge_class", code=cert.programme.code),
            "verification": {"type": "HostedBadge"},
            "issuedOn": iso_datetime(cert.issued_at),
            # Evidence as an IRI: the public check page of this certificate.
            "evidence": verify_url(cert)}
    if cert.expires_at is not None:
        data["expires"] = iso_datetime(cert.expires_at)
    if cert.revoked_at is not None:
        data["revoked"] = True
        data["revocationReason"] = PUBLIC_REVOCATION_REASON
    return data


def revocation_list_json(revoked: list[Certificate]) -> dict:
    entries = []
    for cert in revoked:
        entries.append({"id": external_url("certificates.assertion", code=cert.code),
                        "revocationReason": PUBLIC_REVOCATION_REASON})
    return {"@context": OB_CONTEXT, "type": "RevocationList",
            "id": external_url("certificates.revocations"),
            "issuer": external_url("certificates.issuer"),
            "revokedAssertions": entries}
