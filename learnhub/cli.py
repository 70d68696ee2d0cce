"""`flask --app wsgi learnhub ...` commands. Each commits once, at the end."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db

learnhub_cli = AppGroup("learnhub", help="LearnHub administration commands.")

UNITS_FILE = Path(__file__).parent / "orgs" / "data" / "bac-giang-2021.csv"


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(message, err=True)
    sys.exit(1)


@learnhub_cli.command("sync")
def sync_command():
    """Load courses/ (and quizzes/) into the database; re-runs change nothing."""
    from .catalog.loader import ContentError
    from .materials.sync import sync_content

    root = current_app.config["COURSES_DIR"]
    count = sum(1 for p in Path(root).iterdir() if p.is_dir()) if Path(root).is_dir() else 0
    try:
        with click.progressbar(length=count, label="Syncing courses and quizzes", file=sys.stderr) as bar:
            report = sync_content(root, current_app.config["QUIZZES_DIR"], on_course=lambda slug: bar.update(1))
    except ContentError as exc:
        _fail(f"{exc}\nSync aborted: nothing was changed.")
    db.session.commit()
    for slug in report.left_alone:
        click.echo(f"{slug}: managed in the app, left alone (export-course writes it back as files).")
    click.echo(f"Sync done: {report.summary()}.")


def _user(username: str):
    from sqlalchemy import select

    from .auth.models import Role, User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.has_role(Role.TRAINER, Role.ADMIN):
        _fail(f"No trainer or administrator called '{username}'.")
    return user


@learnhub_cli.command("export-course")
@click.argument("slug")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def export_course_command(slug, out):
    """Write a course's latest published version (bank and attachments too) as a ZIP in the courses/ layout."""
    from .materials.services import MaterialsError, export_zip

    try:
        data = export_zip(slug)
    except MaterialsError as exc:
        _fail(str(exc))
    Path(out).write_bytes(data)
    click.echo(f"Exported {slug} to {out} ({len(data)} bytes).")


@learnhub_cli.command("import-course")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The trainer or administrator doing it.")
def import_course_command(path, username):
    """Load a course ZIP (as export-course writes it) into the course's draft, checked as an upload is."""
    from .catalog.loader import ContentError
    from .materials.services import MaterialsError, import_zip
    from .materials.uploads import UploadRefused

    user = _user(username)
    try:
        slug = import_zip(Path(path).name, Path(path).read_bytes(), user)
    except (UploadRefused, MaterialsError) as exc:
        _fail(f"{path}: {exc}")
    except ContentError as exc:
        _fail(f"{exc}\nImport aborted: nothing was changed.")
    db.session.commit()
    click.echo(f"Imported {path} into the draft of {slug}; publish it with `learnhub publish {slug}`.")


@learnhub_cli.command("versions")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def versions_command(slug, as_json):
    """A course's published versions, its draft and who manages it."""
    import json

    from .materials.services import versions_info

    info = versions_info(slug)
    if info is None:
        _fail(f"No course called '{slug}'.")
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(f"{slug}: managed in {'the app' if info['managed'] == 'app' else 'files'}, "
               f"published {info['published'] or 'never'}, draft {'yes' if info['draft'] else 'no'}")
    for v in info["versions"]:
        click.echo(f"  {v['number']}\t{v['published_at']}\t{v['author'] or '-'}\t{v['note']}")


def _publish_result(action, slug, note, username, **kwargs):
    from .catalog.loader import ContentError
    from .materials.services import MaterialsError

    user = _user(username)
    try:
        created = action(slug, user=user, note=note, **kwargs)
    except MaterialsError as exc:
        _fail(str(exc))
    except ContentError as exc:
        _fail(f"{exc}\nNothing was published.")
    db.session.commit()
    return created


@learnhub_cli.command("publish")
@click.argument("slug")
@click.option("--note", required=True, help="What changed and why.")
@click.option("--as", "username", required=True, help="The trainer or administrator publishing.")
def publish_command(slug, note, username):
    """Publish a course's draft as its next version."""
    from .materials.services import publish

    created = _publish_result(publish, slug, note, username)
    click.echo(f"Published {slug} version {created.number}.")


@learnhub_cli.command("rollback")
@click.argument("slug")
@click.argument("number", type=int)
@click.option("--note", required=True, help="Why the older version comes back.")
@click.option("--as", "username", required=True, help="The trainer or administrator doing it.")
def rollback_command(slug, number, note, username):
    """Publish version NUMBER of a course again, as a new version."""
    from .materials.services import rollback

    created = _publish_result(rollback, slug, note, username, number=number)
    click.echo(f"Published version {number} of {slug} again as version {created.number}.")


@learnhub_cli.command("gift-check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def gift_check_command(path):
    """Parse a GIFT file and print its questions as JSON (exit 1 with FILE:LINE errors)."""
    import json

    from .quizzes.gift import GiftError, parse_gift, question_to_dict

    try:
        questions = parse_gift(Path(path).read_bytes(), path)
    except GiftError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(json.dumps([question_to_dict(q) for q in questions], ensure_ascii=False, indent=2))


@learnhub_cli.command("gift-export")
@click.argument("course_slug")
def gift_export_command(course_slug):
    """Print a course's question bank as GIFT."""
    from .catalog.services import course_by_slug
    from .quizzes.attempts import quiz_for
    from .quizzes.bank_sync import export_bank

    course = course_by_slug(course_slug)
    if course is None or quiz_for(course) is None:
        _fail(f"No course with a quiz called '{course_slug}'. Run `learnhub sync` first?")
    click.echo(export_bank(course), nl=False)


@learnhub_cli.command("recount-reports")
@click.option("--programme", "code", metavar="CODE", help="Only this programme (default: every programme).")
def recount_reports_command(code):
    """Count the dashboard's stored figures afresh from their sources (they are kept in step
    with every change; this is for data written around the app, e.g. by SQL)."""
    import time

    from sqlalchemy import select

    from .programmes.models import TrainingProgramme
    from .reports.tally import recount

    programme = None
    if code:
        programme = db.session.scalar(select(TrainingProgramme).where(TrainingProgramme.code == code))
        if programme is None:
            _fail(f"There is no programme with the code {code}.")
    began = time.perf_counter()
    rows = recount(programme)
    db.session.commit()
    click.echo(f"Counted {'programme ' + code if code else 'every programme'}: {rows} stored rows "
               f"in {time.perf_counter() - began:.1f} s.")


@learnhub_cli.command("certificates")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
def certificates_command(as_json):
    """List every certificate: code, holder, programme and status (valid, revoked, expired)."""
    import json

    from .certificates.services import certificate_rows

    rows = certificate_rows(None)  # the server's shell sees every certificate
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['code']}\t{row['status']:<8}\t{row['programme']}\t{row['holder']} ({row['username']})")
    click.echo(f"{len(rows)} certificates.")


@learnhub_cli.command("audit-verify")
@click.option("--expect-head", "expect_head", metavar="COUNT:HASH",
              help="A head printed earlier (by audit-head or on a report): fail if it is gone.")
def audit_verify_command(expect_head):
    """Check the audit log's hash chain; exit 1 naming the first broken entry."""
    from .audit.services import verify_chain

    result = verify_chain(expect_head=expect_head)
    if not result.ok:
        where = f" at entry {result.broken_id}" if result.broken_id else ""
        click.echo(f"Audit log BROKEN{where}: {result.reason} "
                   f"({result.checked} entries checked).", err=True)
        sys.exit(1)
    click.echo(f"Audit log intact: {result.checked} entries checked"
               + (f", head {expect_head.strip()} present." if expect_head else "."))


@learnhub_cli.command("audit-head")
def audit_head_command():
    """Print the audit log's head (COUNT:HASH): keep it to detect later truncation."""
    from .audit.services import chain_head

    click.echo(str(chain_head()))


@learnhub_cli.command("load-units")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), required=False)
def load_units_command(path):
    """Create or update administrative units from a CSV (code,name,level,kind,parent_code)."""
    from .orgs.services import OrgError, load_units_csv

    text = Path(path or UNITS_FILE).read_text(encoding="utf-8")
    try:
        counts = load_units_csv(text)
    except OrgError as exc:
        _fail(f"{path or UNITS_FILE}: {exc}")
    db.session.commit()
    click.echo(f"Units: {counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged.")


def _unit(code: str):
    from sqlalchemy import select

    from .orgs.models import OrgUnit

    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        _fail(f"No unit with code {code}.")
    return unit


def _reorganise(operation: str, unit, **values):
    """The same path as the units page: the change, its effect on enrolment, an audit entry."""
    from .programmes.reorganise import ReorganiseError, apply_change, preview

    try:
        change = preview(operation, unit, **values)
        apply_change(change, None)
    except ReorganiseError as exc:
        _fail(f"{unit.code}: {exc}")
    db.session.commit()
    return change


def _enrolment_note(change) -> str:
    moved = "; ".join(f"{e.programme.code}: +{e.joined} -{e.left}" for e in change.programmes)
    return f" Enrolment: {moved}." if moved else ""


@learnhub_cli.command("rename-unit")
@click.argument("code")
@click.argument("name")
def rename_unit_command(code, name):
    """Rename a unit; its officials and their records stay with it."""
    unit = _unit(code)
    old = unit.name
    _reorganise("rename", unit, new_name=name)
    click.echo(f"Renamed {code}: {old} → {_unit(code).name}.")


@learnhub_cli.command("move-unit")
@click.argument("code")
@click.argument("parent_code")
def move_unit_command(code, parent_code):
    """Move a unit and everything below it under PARENT_CODE ("-" for the top level)."""
    unit = _unit(code)
    parent = None if parent_code == "-" else _unit(parent_code)
    change = _reorganise("move", unit, target=parent)
    click.echo(f"Moved {code} under {parent_code if parent else 'the top level'}: "
               f"{change.officials} officials.{_enrolment_note(change)}")


@learnhub_cli.command("merge-units")
@click.argument("source_code")
@click.argument("target_code")
def merge_units_command(source_code, target_code):
    """Fold SOURCE into TARGET: its officials and units move, their records stay theirs."""
    source, target = _unit(source_code), _unit(target_code)
    change = _reorganise("merge", source, target=target)
    click.echo(f"Merged {source_code} into {target_code}: {change.officials} accounts moved; "
               f"{source_code} kept, inactive.{_enrolment_note(change)}")


@learnhub_cli.command("import-officials")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--confirm", is_flag=True, help="Write the changes (without it: dry run).")
def import_officials_command(path, confirm):
    """Import officials from CSV or XLSX. Without --confirm only checks and reports."""
    from .auth.services import AccountError, apply_officials_import, plan_officials_import

    try:
        plan = plan_officials_import(Path(path).read_bytes(), path)
    except AccountError as exc:
        _fail(f"{path}: {exc}")
    for problem in plan.problems:
        click.echo(f"{path}:{problem.line}: {problem.message}", err=True)
    summary = (f"{plan.count('create')} to create, {plan.count('update')} to update, "
               f"{plan.count('unchanged')} unchanged, {len(plan.problems)} rows with problems")
    if plan.problems:
        _fail(f"Nothing imported: {summary}.")
    if not confirm:
        click.echo(f"Dry run: {summary}. Run again with --confirm to import.")
        return
    created = apply_officials_import(plan)
    db.session.commit()
    for user, temporary in created:
        click.echo(f"{user.username}\t{temporary}")
    click.echo(f"Imported: {summary}.")


@learnhub_cli.command("cleanup")
def cleanup_command():
    """Delete uploaded files that were never confirmed within a day (run it daily, e.g. from cron)."""
    from .admin.services import discard_unconfirmed_uploads

    removed = discard_unconfirmed_uploads()
    db.session.commit()
    click.echo(f"Cleanup: {removed} unconfirmed uploads older than a day deleted.")


@learnhub_cli.command("seed-demo")
def seed_demo_command():
    """Demo units, accounts and progress (only with LEARNHUB_DEMO=1). Safe to re-run."""
    if not current_app.config.get("DEMO_MODE"):
        _fail("seed-demo runs only in demo mode (LEARNHUB_DEMO=1).")
    from .demo import seed_demo

    password = current_app.config["DEMO_PASSWORD"]
    summary = seed_demo(password, UNITS_FILE.read_text(encoding="utf-8"))
    db.session.commit()
    click.echo(summary)
    from .demo import seed_programme_demo
    click.echo(seed_programme_demo())
    db.session.commit()
    click.echo("")
    click.echo("Demo accounts (password: %s):" % password)
    for username, description in DEMO_ACCOUNTS:
        click.echo(f"  {username:<14} {description}")


DEMO_ACCOUNTS = [
    ("admin", "administrator"),
    ("trainer", "trainer"),
    ("committee", "committee member, whole province"),
    ("committee-lg", "committee member, Lạng Giang district"),
    ("official", "official, Thị trấn Vôi (Lạng Giang): part-way, one quiz failed"),
    ("official2", "official, Phường Trần Phú (TP Bắc Giang): not started"),
    ("certified", "official, Lạng Giang: finished, holds this year's certificate"),
    ("revoked", "official, Lạng Giang: finished, certificate revoked"),
]
