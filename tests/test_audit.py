"""The audit log: a hash chain over every entry, checked by ``learnhub audit-verify``."""
import json

from sqlalchemy import select, text

from learnhub.audit.models import AuditEntry
from learnhub.audit.services import verify_chain

from . import factories


def test_audit_chain_detects_a_tampered_row(app, db, programme):
    official, cert = factories.certified(programme)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["learnhub", "audit-verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert {"attendance.mark", "quiz.result", "certificate.issue"} <= set(actions)
    target = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.mark"))
    db.session.execute(text("UPDATE audit_entry SET data = :d WHERE id = :i"),
                       {"d": json.dumps({"status": "absent"}), "i": target.id})
    db.session.commit()
    bad = runner.invoke(args=["learnhub", "audit-verify"])
    assert bad.exit_code == 1 and f"entry {target.id}" in bad.output
    db.session.expire_all()
    assert verify_chain().broken_id == target.id
