"""Records that hold: an audit chain that shows truncation and rewrites, everything that
matters logged, unconfirmed uploads that do not linger, bad input answered with a message
instead of a 500, CSV read and written safely. The attack first, then the answer."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import delete, func, select, text

from learnhub.admin.models import ImportBatch
from learnhub.audit.models import AuditEntry
from learnhub.audit.services import GENESIS, _canonical, _fields, chain_head, record, verify_chain
from learnhub.auth.models import User
from learnhub.models_base import utcnow

from . import factories


def _entries(db, n):
    for i in range(n):
        record("test.event", "thing", i, data={"i": i})
    db.session.commit()


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["learnhub", *args])


def test_removing_the_last_entries_is_caught_against_a_printed_head(app, db):
    _entries(db, 20)
    head = _cli(app, "audit-head").output.strip()
    assert head == str(chain_head()) and head.startswith("20:")
    assert _cli(app, "audit-verify", "--expect-head", head).exit_code == 0
    for cut in (1, 11):
        last_ids = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(cut)).all()
        db.session.execute(delete(AuditEntry).where(AuditEntry.id.in_(last_ids)))
        db.session.commit()
        # Without the head the shortened chain is still a valid chain ...
        assert _cli(app, "audit-verify").exit_code == 0
        # ... against the head written down earlier it is not.
        result = _cli(app, "audit-verify", "--expect-head", head)
        assert result.exit_code == 1 and "BROKEN" in result.output and "missing" in result.output


def test_a_head_passes_after_the_log_grows(app, db):
    _entries(db, 5)
    head = str(chain_head())
    _entries(db, 3)
    assert _cli(app, "audit-verify", "--expect-head", head).exit_code == 0
    assert verify_chain(expect_head=head.split(":")[1]).ok


def test_rewriting_an_entry_and_rehashing_everything_after_it_is_caught(app, db):
    _entries(db, 12)
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    # The attacker can write the database but does not hold SECRET_KEY: they re-hash with
    # plain SHA-256, the only hash they can compute, from the changed entry to the end.
    rows[4].data = {"i": 999}
    prev = rows[3].hash
    for entry in rows[4:]:
        fields = _fields(entry.at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
                         entry.subject_id, entry.data)
        entry.prev_hash = prev
        entry.hash = hashlib.sha256(prev.encode() + b"\n" + _canonical(fields)).hexdigest()
        prev = entry.hash
    # Unique hashes: move them out of the way first, then write the forged chain.
    db.session.execute(text("UPDATE audit_entry SET prev_hash = 'x' || id, hash = 'y' || id WHERE id >= :i"),
                       {"i": rows[4].id})
    db.session.commit()
    forged = {e.id: (e.prev_hash, e.hash, e.data) for e in rows[4:]}
    db.session.expire_all()
    for entry_id, (prev_hash, hash_, data) in forged.items():
        db.session.execute(text("UPDATE audit_entry SET prev_hash = :p, hash = :h, data = :d WHERE id = :i"),
                           {"p": prev_hash, "h": hash_, "d": json.dumps(data), "i": entry_id})
    db.session.commit()
    result = _cli(app, "audit-verify")
    assert result.exit_code == 1 and f"entry {rows[4].id}" in result.output


def test_the_chain_key_is_not_in_the_database(app, db):
    _entries(db, 1)
    entry = db.session.scalar(select(AuditEntry))
    fields = _fields(entry.at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
                     entry.subject_id, entry.data)
    assert entry.hash != hashlib.sha256(GENESIS.encode() + b"\n" + _canonical(fields)).hexdigest()


def test_imports_resets_and_deactivation_are_logged(client, db, login_as):
    admin = login_as("admin")
    csv_text = "full_name,username,unit_code\nNguyễn Văn Nhập,cb-nhap,D217-01\n"
    client.post("/admin/import", data={"file": (io.BytesIO(csv_text.encode()), "ds.csv")},
                content_type="multipart/form-data")
    batch = db.session.scalar(select(ImportBatch))
    client.post(f"/admin/import/{batch.id}/confirm")
    imported = db.session.scalar(select(User).where(User.username == "cb-nhap"))
    client.post(f"/admin/users/{imported.id}/reset-password", data={"confirmed": "1"})
    client.post(f"/admin/users/{imported.id}/active", data={"active": "0", "confirmed": "1"})
    logged = {e.action: e for e in db.session.scalars(select(AuditEntry))}
    assert logged["officials.import"].actor_id == admin.id and logged["officials.import"].data["created"] == ["cb-nhap"]
    for action in ("account.password_reset", "account.deactivate"):
        assert logged[action].actor_id == admin.id and logged[action].subject_id == imported.id


def test_uploads_never_confirmed_are_deleted_after_a_day(app, client, db, login_as):
    login_as("admin")
    for name in ("cu.csv", "moi.csv"):
        client.post("/admin/import", data={"file": (io.BytesIO(b"full_name,username,unit_code\n"), name)},
                    content_type="multipart/form-data")
    old = db.session.scalar(select(ImportBatch).where(ImportBatch.filename == "cu.csv"))
    old.created_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    result = _cli(app, "cleanup")
    assert result.exit_code == 0 and "1 unconfirmed" in result.output
    assert db.session.scalars(select(ImportBatch.filename)).all() == ["moi.csv"]


def test_an_id_too_large_for_the_database_is_not_found(client, login_as):
    login_as("official")
    for url in ("/quiz/attempts/99999999999999999999", "/quiz/attempts/2147483648/review",
                "/sessions/99999999999999999999"):
        assert client.get(url).status_code == 404, url


def test_an_account_with_an_email_address_can_be_created(client, db, login_as):
    login_as("admin")
    client.post("/admin/users/new", data={"username": "cb-email", "full_name": "Cán bộ Có Thư",
                                          "role": "official", "unit_code": "D217-01", "email": "cb@example.vn"})
    assert db.session.scalar(select(User.email).where(User.username == "cb-email")) == "cb@example.vn"
    page = client.post("/admin/users/new", data={"username": "cb-email2", "full_name": "Cán bộ Sai Thư",
                                                 "role": "official", "unit_code": "D217-01",
                                                 "email": "khong-phai-email"}).get_data(as_text=True)
    assert "không hợp lệ" in page
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "cb-email2")) == 0


def test_the_import_command_explains_a_bad_file(app, db, units, tmp_path):
    for content in (b"ho_ten\xff\xfe,username\n", b"", b"a,b,c\n1,2,3\n"):
        path = tmp_path / "ds.csv"
        path.write_bytes(content)
        result = _cli(app, "import-officials", str(path))
        assert result.exit_code == 1, result.output
        assert "ds.csv" in result.output and "Traceback" not in result.output
        assert not isinstance(result.exception, RuntimeError)


def test_csv_quotes_are_read_as_excel_writes_them(app, db, units, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_text('full_name,username,unit_code,position\n'
                    '"Nguyễn ""Bá"" An",cb-ba-an,D217-01,"Công chức, Văn phòng"\n', encoding="utf-8")
    result = _cli(app, "import-officials", str(path), "--confirm")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "cb-ba-an"))
    assert user.full_name == 'Nguyễn "Bá" An' and user.position == "Công chức, Văn phòng"


def test_exported_cells_never_run_as_formulas(client, db, login_as, programme):
    login_as("admin")
    factories.unit("D217-01").name = '=HYPERLINK("http://evil.example","Bấm")'
    db.session.commit()
    for fmt in ("csv", "xlsx"):
        data = client.get(f"/reports/completion.{fmt}",
                          query_string={"program": programme.code, "unit": "217"}).data
        if fmt == "csv":
            cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
        else:
            sheet = load_workbook(io.BytesIO(data)).active
            cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), fmt
        assert any("HYPERLINK" in c for c in cells), fmt  # shown, as typed, but inert


def test_odd_digits_in_a_quiz_save_are_ignored_not_a_500(client, db, courses, login_as):
    from learnhub.quizzes.attempts import quiz_for, start_attempt
    from learnhub.quizzes.models import AttemptAnswer

    official = login_as("official")
    attempt = start_attempt(official.id, quiz_for(courses["iso-co-ban"]), seed=1)
    db.session.commit()
    slots = [a.slot for a in attempt.answers]
    form = {}
    for slot in slots:  # every kind of slot gets a superscript two, an Arabic-Indic one, a huge number
        form.update({f"q{slot}-shown": "1", f"q{slot}": "²", f"q{slot}-m0": "٣", f"q{slot}-m1": "9" * 30})
    response = client.post(f"/quiz/attempts/{attempt.id}/save", data=form, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json()["status"] == "saved"
    kinds = {a.question.qtype for a in db.session.scalars(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt.id))}
    assert {"multichoice", "matching"} & kinds  # the slots whose values are choice numbers were there
