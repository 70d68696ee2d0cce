"""A conference of Lạng Giang under way, for the conference-day tests (page and browser)."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from learnhub.attendance.models import AttendanceRecord, TrainingSession
from learnhub.attendance.services import (
    AttendanceError, apply_sheet, attendance_totals, check_in, create_session, mark, mark_all_present,
    plan_sheet_import, projector_code, roll_call_rows, rotating_code, session_for_code, set_rotation,
)
from learnhub.audit.models import AuditEntry
from learnhub.auth.models import User
from learnhub.catalog.services import course_by_slug
from learnhub.materials.sync import sync_content
from learnhub.models_base import utcnow
from learnhub.names import fold
from learnhub.programmes.services import create_programme
from learnhub.spreadsheets import SpreadsheetError, read_table

from . import factories

COMMUNES = ["D217-01", "D217-02", "D217-03", "D217-04", "D217-05"]


@pytest.fixture
def conference(app, db, units):
    sync_content(app.config["COURSES_DIR"], app.config["QUIZZES_DIR"])
    db.session.commit()
    trainer = factories.make_user("trainer", username="giangvien")
    programme = create_programme(code="iso-2026", title="Tập huấn ISO 2026", description="",
                                 courses=[course_by_slug("iso-co-ban")], target_units=[factories.unit("217")],
                                 requires_attendance=True, deadline=None, validity_months=24, issuer_name="",
                                 by=trainer)
    now = utcnow()
    session = create_session(programme, title="Hội nghị tập huấn huyện Lạng Giang", unit=factories.unit("217"),
                             venue="Hội trường UBND huyện", starts_at=now - timedelta(minutes=10),
                             ends_at=now + timedelta(hours=3), trainer=trainer)
    db.session.commit()
    return session, trainer


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- one folding rule -----------------------------------------------------------
