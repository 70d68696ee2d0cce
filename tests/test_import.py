"""Bulk import of officials: dry run by line, confirm, re-import updates."""
import io

from sqlalchemy import func, select

from learnhub.admin.models import ImportBatch
from learnhub.auth.models import User
from learnhub.auth.services import apply_officials_import, plan_officials_import

GOOD = ("full_name,username,unit_code,position,email,phone\n"
        "Nguyễn Văn Bình,nvbinh,D217-01,Công chức Tư pháp - hộ tịch,binh@example.vn,0912 345 678\n"
        "Trần Thị Cúc,ttcuc,D217-02,Phó Chủ tịch UBND,,\n")
BAD = ("full_name,username,unit_code,position\n"
       "Nguyễn Văn Bình,nvbinh,D217-01,Văn phòng\n"
       ",thieu-ten,D217-01,\n"
       "Có Dấu,tên có dấu,D217-01,\n"
       "Sai Đơn Vị,saidonvi,XYZ,\n"
       "Trùng Tên,nvbinh,D217-01,\n")


def count_officials(db):
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "official"))


def test_dry_run_lists_every_bad_row_by_line_and_writes_nothing(db, units):
    plan = plan_officials_import(BAD.encode())
    assert [p.line for p in plan.problems] == [3, 4, 5, 6]
    assert "username" in plan.problems[1].message or "tên đăng nhập" in plan.problems[1].message
    assert count_officials(db) == 0


def test_import_then_reimport_updates_instead_of_duplicating(db, units):
    created = apply_officials_import(plan_officials_import(GOOD.encode()))
    db.session.commit()
    assert len(created) == 2 and count_officials(db) == 2
    changed = GOOD.replace("Phó Chủ tịch UBND", "Chủ tịch UBND").replace("D217-02", "D217-03")
    plan = plan_officials_import(changed.encode())
    assert [r.action for r in plan.rows] == ["unchanged", "update"]
    assert apply_officials_import(plan) == []
    db.session.commit()
    assert count_officials(db) == 2
    cuc = db.session.scalar(select(User).where(User.username == "ttcuc"))
    assert cuc.position == "Chủ tịch UBND" and cuc.unit.code == "D217-03"


def test_excel_semicolon_csv_with_bom_is_read(db, units):
    text = "\ufeffho_ten;ten_dang_nhap;ma_don_vi\nLê Văn Đức;lvduc;D213-01\n"
    plan = plan_officials_import(text.encode("utf-8"))
    assert not plan.problems and plan.rows[0].full_name == "Lê Văn Đức"


def test_non_utf8_file_gets_a_clear_message(db, units):
    import pytest
    from learnhub.auth.services import AccountError
    with pytest.raises(AccountError, match="UTF-8"):
        plan_officials_import("full_name,username,unit_code\nLê Văn Đức,lvduc,D213-01\n".encode("utf-16"))


def test_web_import_checks_then_confirms(client, db, login_as):
    login_as("admin")
    bad = client.post("/admin/import", data={"file": (io.BytesIO(BAD.encode()), "ds.csv")},
                      content_type="multipart/form-data")
    page = bad.get_data(as_text=True)
    assert "4 dòng có lỗi" in page and "Chưa nhập gì" in page
    assert count_officials(db) == 0
    good = client.post("/admin/import", data={"file": (io.BytesIO(GOOD.encode()), "ds.csv")},
                       content_type="multipart/form-data")
    assert "Xác nhận nhập" in good.get_data(as_text=True)
    assert count_officials(db) == 0
    batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
    done = client.post(f"/admin/import/{batch.id}/confirm")
    assert done.status_code == 200 and "nvbinh" in done.get_data(as_text=True)
    assert count_officials(db) == 2
    again = client.post(f"/admin/import/{batch.id}/confirm", follow_redirects=True)
    assert "đã được nhập" in again.get_data(as_text=True)
    assert count_officials(db) == 2


def test_cli_import_dry_run_and_confirm(app, db, units, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_text(BAD, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["learnhub", "import-officials", str(path)])
    assert result.exit_code == 1 and f"{path}:3:" in result.output
    path.write_text(GOOD, encoding="utf-8")
    dry = runner.invoke(args=["learnhub", "import-officials", str(path)])
    assert dry.exit_code == 0 and "Dry run: 2 to create" in dry.output and count_officials(db) == 0
    real = runner.invoke(args=["learnhub", "import-officials", str(path), "--confirm"])
    assert real.exit_code == 0 and "Imported: 2 to create" in real.output and count_officials(db) == 2
