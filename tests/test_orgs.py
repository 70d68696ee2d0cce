"""The unit tree: subtree queries, renames, moves, merges, and the two-tier form."""
from sqlalchemy import func, select

from learnhub.auth.models import User
from learnhub.catalog.models import LessonProgress
from learnhub.admin.services import merge_units
from learnhub.orgs.models import OrgUnit
from learnhub.orgs.services import (
    OrgError, load_units_csv, move_unit, parse_units_csv, rename_unit, subtree_condition,
)

from . import factories


def codes_below(db, code):
    unit = factories.unit(code)
    return set(db.session.scalars(select(OrgUnit.code).where(subtree_condition(unit))))


def test_demo_tree_has_bac_giang_and_its_ten_districts(db, units):
    province = units["24"]
    districts = db.session.scalars(select(OrgUnit.name).where(OrgUnit.parent_id == province.id)).all()
    assert len(districts) == 10
    assert {"Lạng Giang", "Hiệp Hòa", "Sơn Động", "Bắc Giang"} <= set(districts)


def test_subtree_is_the_unit_and_everything_below(db, units):
    assert codes_below(db, "217") == {"217", "D217-01", "D217-02", "D217-03", "D217-04", "D217-05"}
    assert len(codes_below(db, "24")) == len(units)
    assert codes_below(db, "D217-01") == {"D217-01"}


def test_subtree_query_uses_one_index_range(db, units):
    unit = factories.unit("217")
    sql = str(select(OrgUnit.id).where(subtree_condition(unit)).compile(db.engine))
    assert "org_unit.path >=" in sql and "org_unit.path <" in sql and "LIKE" not in sql.upper()


def test_two_tier_tree_province_to_commune(db):
    load_units_csv("code,name,level,kind,parent_code\n"
                   "27,Bắc Ninh,province,Tỉnh,\n"
                   "C01,Phường Mới,commune,Phường,27\n"
                   "C02,Xã Mới,commune,Xã,27\n")
    db.session.commit()
    assert codes_below(db, "27") == {"27", "C01", "C02"}
    assert factories.unit("C01").depth == 1


def test_reloading_the_same_file_changes_nothing(db, units):
    counts = load_units_csv(factories.UNITS_CSV.read_text(encoding="utf-8"))
    assert counts["created"] == 0 and counts["updated"] == 0 and counts["unchanged"] == len(units)


def test_bad_unit_rows_are_reported_by_line():
    rows, problems = parse_units_csv("code,name,level,kind,parent_code\n1,A,province,,\n2,,district,,1\n3,C,hamlet,,1\n1,D,district,,1\n")
    assert [(p.line, p.message.split(" ")[0]) for p in problems] == [(3, "code"), (4, "level"), (5, "code")]


def test_rename_move_and_merge_keep_every_record(db, units):
    official = factories.make_user("official", unit_code="D217-03")
    db.session.add(LessonProgress(user_id=official.id, lesson_id=_lesson_id(db)))
    db.session.commit()

    rename_unit(factories.unit("D217-03"), "Tân Dĩnh (mới)")
    move_unit(factories.unit("D217-03"), factories.unit("218"))
    db.session.commit()
    assert "D217-03" in codes_below(db, "218") and "D217-03" not in codes_below(db, "217")
    assert factories.unit("D217-03").name == "Tân Dĩnh (mới)"

    moved = merge_units(factories.unit("D217-03"), factories.unit("D218-02"))
    db.session.commit()
    assert moved == 1
    official = db.session.get(User, official.id)
    assert official.unit.code == "D218-02"
    assert db.session.scalar(select(func.count()).select_from(LessonProgress).where(LessonProgress.user_id == official.id)) == 1
    old = factories.unit("D217-03")
    assert old.is_active is False and old.merged_into_id == factories.unit("D218-02").id


def test_merging_districts_moves_their_communes(db, units):
    merge_units(factories.unit("216"), factories.unit("215"))
    db.session.commit()
    assert {"D216-01", "D216-04"} <= codes_below(db, "215")
    assert factories.unit("D216-01").path.startswith(factories.unit("215").path)


def test_a_unit_cannot_move_under_itself(db, units):
    import pytest
    with pytest.raises(OrgError):
        move_unit(factories.unit("217"), factories.unit("D217-01"))


def _lesson_id(db):
    from learnhub.catalog.models import Course, Lesson
    course = Course(slug="c", title="C")
    db.session.add(course)
    db.session.flush()
    lesson = Lesson(course_id=course.id, slug="l", title="L")
    db.session.add(lesson)
    db.session.flush()
    return lesson.id


def test_unit_commands_rename_move_merge_and_refuse_bad_input(app, db, units):
    official = factories.make_user("official", unit_code="D217-03")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["learnhub", "rename-unit", "D217-03", "Xã Tân Dĩnh mới"])
    assert result.exit_code == 0 and "Xã Tân Dĩnh mới" in result.output
    result = runner.invoke(args=["learnhub", "move-unit", "217", "D217-01"])
    assert result.exit_code == 1 and "Không thể chuyển một đơn vị vào dưới chính nó" in result.output
    assert runner.invoke(args=["learnhub", "move-unit", "D217-03", "218"]).exit_code == 0
    result = runner.invoke(args=["learnhub", "merge-units", "D217-03", "D218-02"])
    assert result.exit_code == 0 and "1 accounts moved" in result.output
    assert runner.invoke(args=["learnhub", "merge-units", "NOPE", "218"]).exit_code == 1
    db.session.expire_all()
    assert db.session.get(User, official.id).unit.code == "D218-02"
    assert "D217-03" in codes_below(db, "218") and factories.unit("D217-03").name == "Xã Tân Dĩnh mới"
