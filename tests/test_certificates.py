"""Certificates: issued automatically when a programme's rule is met, one at a time, with a
snapshot; revocation, the public check page, Open Badges 2.0 hosted assertions, PDFs and the CLI.
Attendance, programmes and the audit log have their own test modules."""
import hashlib
import io
import json
import re
import threading
import zipfile
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from xml.etree import ElementTree

from sqlalchemy import func, select

from learnhub.attendance.models import AttendanceRecord
from learnhub.attendance.services import mark
from learnhub.certificates.documents import PUBLIC_REVOCATION_REASON
from learnhub.certificates.models import Certificate
from learnhub.certificates.services import active_certificate, issue, revoke
from learnhub.models_base import utcnow

from . import factories


def test_certificate_issued_in_the_transaction_that_completes_the_rule(db, courses, programme):
    official = factories.make_user("official", unit_code="D217-01")
    session = factories.the_session(programme)
    factories.complete_course(official, courses["iso-co-ban"])
    assert active_certificate(official.id, programme.id) is None  # attendance still missing
    trainer = factories.make_user("trainer")
    mark(session, official, "present", by=trainer, source="roll_call")
    # Not committed yet: the certificate is already part of the same transaction.
    cert = active_certificate(official.id, programme.id)
    assert cert is not None and cert.issued_by_id is None
    db.session.rollback()
    assert active_certificate(official.id, programme.id) is None
    assert db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.user_id == official.id)) is None


def test_snapshot_and_expiry(db, programme):
    official, cert = factories.certified(programme, full_name="Nguyễn Thị Hòa", position="Công chức Tư pháp - hộ tịch")
    assert cert.snapshot["name"] == "Nguyễn Thị Hòa"
    assert cert.snapshot["unit"].startswith("Thị trấn Vôi, Huyện Lạng Giang")
    assert cert.snapshot["modules"][0]["score"] == 100.0
    assert (cert.expires_at - cert.issued_at).days in range(729, 733)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}", cert.code)  # Crockford Base32


def test_one_active_certificate_even_under_concurrent_issue(app, db, programme):
    official = factories.make_user("official", unit_code="D217-01")
    programme_id, user_id = programme.id, official.id
    results = []

    def go():
        with app.test_request_context():
            from learnhub.programmes.models import TrainingProgramme
            from learnhub.auth.models import User
            from learnhub.extensions import db as tdb
            try:
                cert = issue(tdb.session.get(User, user_id), tdb.session.get(TrainingProgramme, programme_id))
                tdb.session.commit()
                results.append(cert.code)
            except Exception as exc:  # a lost race must surface as the other's certificate, not an error
                tdb.session.rollback()
                results.append(repr(exc))
            finally:
                tdb.session.remove()

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    active = db.session.scalar(select(func.count()).select_from(Certificate).where(
        Certificate.user_id == user_id, Certificate.revoked_at.is_(None)))
    assert active == 1
    code = db.session.scalar(select(Certificate.code).where(Certificate.user_id == user_id))
    assert results == [code] * 6  # every request, winner or loser, answers with the one certificate


def pdf_objects(data: bytes) -> bytes:
    """The PDF with its compressed streams expanded, to look for page size and fonts."""
    import zlib
    parts = [data]
    # A stream's last byte may itself be CR or LF, so take everything up to "endstream" and
    # let the decompressor stop at the end of the zlib data.
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            parts.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(parts)


def test_verify_page_valid_revoked_expired_unknown(client, db, programme):
    official, cert = factories.certified(programme, full_name="Phạm Văn Kiểm", email="kiem@example.vn", phone="0912345678",
                                position="Phó Chủ tịch UBND")
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Còn hiệu lực" in page and "Phạm Văn Kiểm" in page and "Tập huấn ISO 2021" in page
    assert 'rel="alternate" type="application/ld+json"' in page
    for private in ("kiem@example.vn", "0912345678", official.username, "Phó Chủ tịch"):
        assert private not in page
    revoke(cert, factories.make_user("admin"), "Cấp nhầm người")
    db.session.commit()
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Đã thu hồi ngày" in page
    cert.revoked_at, cert.expires_at = None, utcnow() - timedelta(days=1)
    db.session.commit()
    assert "Hết hạn ngày" in client.get(f"/verify/{cert.code}").get_data(as_text=True)
    unknown = client.get("/verify/AAAAA-BBBBB-CCCCC-DDDDD")
    assert unknown.status_code == 404 and "Không có chứng nhận nào mang mã" in unknown.get_data(as_text=True)


OB_CONTEXT = "https://w3id.org/openbadges/v2"
# OB 2.0 DateTime: ISO 8601 with a time zone indicator (the validator's own rule).
OB_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def _local(url: str) -> str:
    assert url.startswith("http://localhost/"), url  # absolute HTTP ids on the app's own origin
    return url[len("http://localhost"):]


def _badge_json(client, url: str, status: int = 200, accept: str | None = None) -> dict:
    response = client.get(_local(url), headers={"Accept": accept} if accept else {})
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = json.loads(response.get_data(as_text=True))
    assert data["@context"] == OB_CONTEXT
    assert data["id"] == url  # each Badge Object is served at its own id
    return data


def test_open_badges_hosted_assertion_badgeclass_issuer(client, db, programme):
    official, cert = factories.certified(programme, email="Hoa@Example.vn")
    url = f"http://localhost/badges/assertions/{cert.code}"
    # What a validator asks for first.
    assertion = _badge_json(client, url, accept="application/ld+json, application/json, image/png, image/svg+xml")
    assert assertion["type"] == "Assertion"
    assert assertion["verification"] == {"type": "HostedBadge"}
    assert OB_DATETIME.match(assertion["issuedOn"]) and OB_DATETIME.match(assertion["expires"])
    issued, expires = (datetime.fromisoformat(assertion[k]) for k in ("issuedOn", "expires"))
    assert issued.utcoffset() == timedelta(0) and issued <= utcnow() < expires
    assert issued == cert.issued_at.replace(microsecond=0)
    assert "revoked" not in assertion and "revocationReason" not in assertion
    recipient = assertion["recipient"]
    assert recipient["hashed"] is True and recipient["type"] == "email" and isinstance(recipient["salt"], str)
    assert re.fullmatch(r"sha256\$[0-9a-f]{64}", recipient["identity"])
    assert recipient["identity"] == "sha256$" + hashlib.sha256(("hoa@example.vn" + recipient["salt"]).encode()).hexdigest()
    assert "hoa@example" not in json.dumps(assertion).lower()
    assert isinstance(assertion["evidence"], str) and _local(assertion["evidence"]) == f"/verify/{cert.code}"

    badge = _badge_json(client, assertion["badge"])
    assert badge["type"] == "BadgeClass" and badge["name"] == "Tập huấn ISO 2021 — cấp xã"
    assert isinstance(badge["description"], str) and badge["description"]
    assert isinstance(badge["criteria"], dict) and "ISO cơ bản (khóa thử)" in badge["criteria"]["narrative"]

    image = client.get(_local(badge["image"]))
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert image.headers["Access-Control-Allow-Origin"] == "*"
    svg = ElementTree.fromstring(image.data)  # well-formed XML, an SVG root
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox")

    issuer = _badge_json(client, badge["issuer"])
    assert issuer["type"] == "Issuer" and issuer["name"] and issuer["url"].startswith("http")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+", issuer["email"])  # required of an issuer Profile
    # Hosted verification: the assertion lives on the issuer id's origin.
    assert urlsplit(assertion["id"]).netloc == urlsplit(issuer["id"]).netloc
    revocations = _badge_json(client, issuer["revocationList"])
    assert revocations == {"@context": OB_CONTEXT, "type": "RevocationList", "id": issuer["revocationList"],
                           "issuer": issuer["id"], "revokedAssertions": []}


def test_revoked_hosted_assertion_is_gone_and_listed(client, db, programme):
    official, cert = factories.certified(programme, email="hoa@example.vn")
    url = f"http://localhost/badges/assertions/{cert.code}"
    before = _badge_json(client, url)
    revoke(cert, factories.make_user("admin"), "Gian lận khi làm bài")
    db.session.commit()
    # OB 2.0 "Revoking Hosted Assertions": 410 Gone, the body saying revoked. The reason a
    # trainer wrote about a person stays internal: public JSON carries a fixed phrase.
    gone = _badge_json(client, url, status=410)
    assert gone["revoked"] is True and gone["revocationReason"] == PUBLIC_REVOCATION_REASON
    assert "Gian lận" not in json.dumps(gone, ensure_ascii=False)
    # Still a complete, valid Assertion otherwise.
    assert {k: v for k, v in gone.items() if k not in ("revoked", "revocationReason")} == before
    revoked = _badge_json(client, "http://localhost/badges/revocations")
    assert revoked["revokedAssertions"] == [{"id": url, "revocationReason": PUBLIC_REVOCATION_REASON}]


def test_badge_json_content_negotiation_redirect_and_unknown(client, db, programme):
    official, cert = factories.certified(programme)
    path = f"/badges/assertions/{cert.code}"
    for endpoint in (path, f"/badges/programmes/{programme.code}", "/badges/issuer", "/badges/revocations"):
        default = client.get(endpoint)
        assert default.mimetype == "application/ld+json" and "Accept" in default.headers["Vary"]
        plain = client.get(endpoint, headers={"Accept": "application/json"})  # asks for JSON only
        assert plain.mimetype == "application/json" and plain.headers["Access-Control-Allow-Origin"] == "*"
        assert plain.get_json() == default.get_json(force=True)
    # Another spelling of the code is sent to the Assertion's id.
    moved = client.get(path.lower())
    assert moved.status_code == 301 and moved.headers["Location"].endswith(path)
    assert moved.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/badges/assertions/AAAAA-BBBBB-CCCCC-DDDDD").status_code == 404
    assert client.get("/badges/programmes/khong-co").status_code == 404


def test_issuer_email_and_timestamps(app, client):
    from learnhub.certificates.documents import iso_datetime
    assert iso_datetime(datetime(2026, 11, 24, 10, 0, 0, 123456)) == "2026-11-24T10:00:00+00:00"  # naive is UTC
    assert iso_datetime(datetime(2026, 11, 24, 17, 0, tzinfo=timezone(timedelta(hours=7)))) == "2026-11-24T10:00:00+00:00"
    saved = app.config["ISSUER_EMAIL"]
    try:
        app.config["ISSUER_EMAIL"] = ""
        assert client.get("/badges/issuer").get_json(force=True)["email"] == "contact@localhost"
        app.config["ISSUER_EMAIL"] = "iso@bacgiang.gov.vn"
        assert client.get("/badges/issuer").get_json(force=True)["email"] == "iso@bacgiang.gov.vn"
    finally:
        app.config["ISSUER_EMAIL"] = saved


def test_verify_page_links_the_hosted_assertion(client, db, programme):
    official, cert = factories.certified(programme)
    page = client.get(f"/verify/{cert.code.lower()}").get_data(as_text=True)
    link = re.search(r'<link rel="alternate" type="application/ld\+json" href="([^"]+)">', page)
    assert link and link.group(1) == f"http://localhost/badges/assertions/{cert.code}"
    assert "<link rel=\"alternate\"" not in client.get("/verify/AAAAA-BBBBB-CCCCC-DDDDD").get_data(as_text=True)


def test_pdf_zip_and_record(client, db, programme, login_as):
    official, cert = factories.certified(programme, full_name="Đặng Thị Ngọc Ánh")
    client.post("/login", data={"username": official.username, "password": factories.PASSWORD})
    pdf = client.get(f"/certificates/{cert.code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    content = pdf_objects(pdf.data)
    assert re.search(rb"/MediaBox \[0 0 841\.\d+ 595\.\d+\]", content)  # A4 landscape
    assert re.search(rb"/BaseFont /\w+\+DejaVu-Sans", content) and b"/ToUnicode" in content
    assert len(re.findall(rb"/Type\s*/Page\b", content)) == 1  # one page, nothing spilled over
    record = client.get("/my/record.pdf")
    assert record.status_code == 200 and record.data.startswith(b"%PDF")
    client.post("/logout")
    login_as("official", unit_code="D217-02")
    assert client.get(f"/certificates/{cert.code}.pdf").status_code == 404
    client.post("/logout")
    login_as("committee", unit_code="217")
    archive = client.get(f"/programmes/{programme.code}/units/{factories.unit('D217-01').id}/certificates.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert names == [f"{official.username}-{programme.code}-{cert.code}.pdf"]


def test_certificate_pdf_layout_holds_on_one_page(app, db, programme):
    from flask import render_template

    from learnhub.certificates import documents
    official, cert = factories.certified(programme, full_name="Nguyễn Thị Phương Huyền Trang",
                                position="Phó Chủ tịch Ủy ban nhân dân")
    with app.test_request_context(base_url="https://learnhub.example.vn"):
        url = documents.verify_url(cert)
        html = render_template("certificates/pdf.html", cert=cert, snap=cert.snapshot, verify_url=url,
                               qr=documents.qr_svg(url))
        assert url == f"https://learnhub.example.vn/verify/{cert.code}" and url in html
        assert "<svg" in html and "Nguyễn Thị Phương Huyền Trang" in html and "Phó Chủ tịch" in html
        assert "100%" in html and "Ban Chỉ đạo ISO tỉnh Bắc Giang" in html
        for count in (1, 8, 14, 24):  # however many modules, the certificate stays one page
            cert.snapshot = dict(cert.snapshot, modules=[
                {"title": f"Học phần {i + 1}: hệ thống quản lý chất lượng theo TCVN ISO 9001:2015", "score": 87.5}
                for i in range(count)])
            content = pdf_objects(documents.certificate_pdf(cert))
            assert len(re.findall(rb"/Type\s*/Page\b", content)) == 1, count
            assert re.search(rb"/MediaBox \[0 0 841\.\d+ 595\.\d+\]", content)
    db.session.rollback()


def test_certificates_cli(app, db, programme):
    official, cert = factories.certified(programme)
    revoked_official, revoked_cert = factories.certified(programme)
    revoke(revoked_cert, factories.make_user("admin"), "Sai sót")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["learnhub", "certificates", "--json"])
    rows = {r["code"]: r for r in json.loads(result.output)}
    assert rows[cert.code]["status"] == "valid" and rows[revoked_cert.code]["status"] == "revoked"
    assert rows[cert.code]["holder"] == official.full_name and rows[cert.code]["programme"] == programme.code


def test_assertion_keeps_the_recipient_it_was_issued_to(client, db, programme):
    official, cert = factories.certified(programme, email="lan@example.vn")
    before = client.get(f"/badges/assertions/{cert.code}").get_json(force=True)["recipient"]
    official.email = "lan.moi@example.vn"
    db.session.commit()
    after = client.get(f"/badges/assertions/{cert.code}").get_json(force=True)["recipient"]
    assert after == before
    assert after["identity"] == "sha256$" + hashlib.sha256(("lan@example.vn" + after["salt"]).encode()).hexdigest()


def test_behind_a_proxy_badge_ids_use_the_public_address(app):
    from learnhub import create_app
    proxied = create_app({**app.config, "PROXY_FIX": True})
    issuer = proxied.test_client().get("/badges/issuer", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "iso.bacgiang.gov.vn"}).get_json(force=True)
    assert issuer["id"] == "https://iso.bacgiang.gov.vn/badges/issuer"
    assert issuer["revocationList"] == "https://iso.bacgiang.gov.vn/badges/revocations"


def test_walking_through_certificate_codes_is_slowed_per_address(app, client, db, programme):
    from learnhub.extensions import limiter
    official, cert = factories.certified(programme)
    default = app.config["RATELIMIT_VERIFY"]
    app.config["RATELIMIT_VERIFY"] = "4 per minute"
    try:
        tries = [client.get(f"/verify/AAAAA-BBBBB-CCCCC-{i:05d}").status_code for i in range(3)]
        typed = client.get(f"/verify?code={cert.code.lower()}")
        blocked = client.get(f"/verify/{cert.code}")
        elsewhere = app.test_client().get(f"/verify/{cert.code}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    finally:
        app.config["RATELIMIT_VERIFY"] = default
        limiter.reset()
    assert tries == [404, 404, 404] and typed.status_code == 302
    assert blocked.status_code == 429 and "Hãy chờ một phút" in blocked.get_data(as_text=True)
    assert elsewhere.status_code == 200 and "Còn hiệu lực" in elsewhere.get_data(as_text=True)
