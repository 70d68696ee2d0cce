"""The learner's pages read what they show in a fixed number of queries, however many
courses, programmes, attempts and certificates the official has; and the home page's
quiz results, read for every course at once, say what each quiz's own page says."""
import shutil
from dataclasses import asdict

from sqlalchemy import select

from learnhub.attendance.services import mark
from learnhub.catalog.models import Course
from learnhub.materials.sync import sync_content
from learnhub.progress.rules import progress_by_course, quiz_results
from learnhub.quizzes.attempts import quiz_for, start_attempt
from learnhub.quizzes.results import quiz_result

from . import factories
from .querycount import count_queries

PAGES = ["/", "/courses", "/my", "/my/certificates", "/courses/iso-co-ban"]




def _more_courses(app, db, tmp_path, n: int) -> list[Course]:
    """The fixture course copied ``n`` times under other slugs, each with its quiz."""
    courses_dir, quizzes_dir = tmp_path / "courses", tmp_path / "quizzes"
    shutil.copytree(app.config["COURSES_DIR"], courses_dir)
    shutil.copytree(app.config["QUIZZES_DIR"], quizzes_dir)
    original = (courses_dir / "iso-co-ban" / "course.md").read_text(encoding="utf-8")
    bank = (quizzes_dir / "iso-co-ban.gift").read_text(encoding="utf-8")
    slugs = []
    for i in range(2, n + 2):
        slug = f"iso-co-ban-{i}"
        shutil.copytree(courses_dir / "iso-co-ban", courses_dir / slug)
        (courses_dir / slug / "course.md").write_text(
            original.replace("iso-co-ban.gift", f"{slug}.gift").replace('(khóa thử)', f'(khóa thử {i})')
            .replace('"iso-co-ban/', f'"{slug}/'), encoding="utf-8")
        (quizzes_dir / f"{slug}.gift").write_text(bank.replace("iso-co-ban/", f"{slug}/"), encoding="utf-8")
        slugs.append(slug)
    sync_content(str(courses_dir), str(quizzes_dir))
    db.session.commit()
    return list(db.session.scalars(select(Course).where(Course.slug.in_(slugs))))


def test_learner_pages_do_not_query_more_with_more_courses_programmes_and_certificates(
        app, client, db, programme, login_as, tmp_path):
    official = login_as("official")
    base = programme.courses[0]
    factories.lessons_of(base)
    from learnhub.catalog.services import mark_lesson_done
    mark_lesson_done(official.id, factories.lessons_of(base)[0])
    db.session.commit()
    factories.attempt(official, base, "wrong", seed=3)
    for page in PAGES:
        assert client.get(page).status_code == 200, page
    small = {page: count_queries(db, lambda page=page: client.get(page)) for page in PAGES}

    # Three more courses with quizzes, two more programmes (one without attendance), the
    # conference attended, every course taken (certificates issued), a quiz failed then passed.
    extra = _more_courses(app, db, tmp_path, 3)
    trainer = factories.make_user("trainer")
    factories.make_programme(trainer, [base, *extra], code="iso-2022", title="Tập huấn 2022")
    factories.make_programme(trainer, extra[:2], code="iso-2023", title="Tập huấn 2023", requires_attendance=False)
    mark(factories.the_session(programme), official, "present", by=None, source="roll_call")
    db.session.commit()
    for course in [base, *extra[:2]]:
        factories.attempt(official, course, "wrong", seed=4)
        factories.complete_course(official, course)
    factories.finish_lessons(official, extra[2])
    start_attempt(official.id, quiz_for(extra[2]))
    db.session.commit()

    home = client.get("/").get_data(as_text=True)
    assert "Tập huấn 2022" in home and "Tập huấn 2023" in home
    assert client.get("/my/certificates").get_data(as_text=True).count("<li class=\"card\">") == 2
    large = {page: count_queries(db, lambda page=page: client.get(page)) for page in PAGES}
    assert all(large[page] <= small[page] for page in PAGES), (small, large)
    assert all(n <= 6 for n in small.values()), small


def test_quiz_results_of_every_course_match_each_quiz_result(app, db, courses, login_as, tmp_path):
    official = login_as("official")
    extra = _more_courses(app, db, tmp_path, 4)
    base = courses["iso-co-ban"]
    last = quiz_for(extra[3])
    last.grading = "last"
    limited = quiz_for(extra[2])
    limited.max_attempts = 2
    db.session.commit()
    factories.attempt(official, base, "wrong", seed=1)                # failed, attempts left
    factories.attempt(official, extra[0], "right", seed=1)            # passed at once
    factories.attempt(official, extra[1], "right", seed=1)            # passed, then failed: still passed (highest)
    factories.attempt(official, extra[1], "wrong", seed=2)
    factories.attempt(official, extra[2], "wrong", seed=1)            # failed, one attempt open: none left after
    start_attempt(official.id, limited)
    factories.attempt(official, extra[3], "right", seed=1)            # "last attempt": passed then failed
    factories.attempt(official, extra[3], "wrong", seed=2)
    db.session.commit()

    results = quiz_results(official.id)
    for course in [base, *extra]:
        expected = asdict(quiz_result(official.id, quiz_for(course)))
        summary = results[course.id]
        assert asdict(summary) == expected, course.slug
        assert summary.status == quiz_result(official.id, quiz_for(course)).status
    # The course cards say the same of each quiz.
    assert {p.course.id: p.quiz_passed for p in progress_by_course(official.id)} == {
        c: r.passed for c, r in results.items()}
    assert results[extra[0].id].passed and results[extra[1].id].passed
    assert not results[extra[3].id].passed and results[extra[3].id].percent == 0
    assert results[extra[2].id].attempts_left == 0 and results[extra[2].id].in_progress
    # An official who has not started any quiz: every quiz "not attempted yet".
    other = factories.make_user("official")
    assert {s.status for s in quiz_results(other.id).values()} == {"not_started"}


def test_a_fragment_read_often_stays_cached_while_officials_own_pages_come_and_go(app, monkeypatch):
    from learnhub import fragments

    monkeypatch.setattr(fragments, "_cache", fragments.OrderedDict())
    rendered = []
    get_template = app.jinja_env.get_template

    def counting(name, *args, **kwargs):
        rendered.append(name)
        return get_template(name, *args, **kwargs)

    monkeypatch.setattr(app.jinja_env, "get_template", counting)
    with app.test_request_context("/"):
        hot = dict(rows=())
        fragments.fragment("progress/_my.html", **hot)
        for n in range(3 * fragments._MAX_ENTRIES):
            fragments.fragment("progress/_course_cards.html", items=(), n=n)  # an official's own, once
            if n % 100 == 0:
                fragments.fragment("progress/_my.html", **hot)
        assert rendered.count("progress/_my.html") == 1
        assert len(fragments._cache) <= fragments._MAX_ENTRIES
        # The oldest of the officials' own fragments went first.
        rendered.clear()
        fragments.fragment("progress/_course_cards.html", items=(), n=0)
        assert "progress/_course_cards.html" in rendered


def test_check_in_confirmation_opens_for_the_sessions_officials_and_overseers_only(app, db, programme):
    session = factories.the_session(programme)  # Lạng Giang's conference, under way
    url = f"/check-in/{session.id}"
    client = None

    def page_as(role: str, unit_code: str | None):
        nonlocal client
        client = app.test_client()
        user = factories.make_user(role, unit_code=unit_code)
        assert client.post("/login", data={"username": user.username, "password": factories.PASSWORD}).status_code == 302
        return user, client.get(url)

    official, response = page_as("official", "D217-02")  # a commune of Lạng Giang
    assert response.status_code == 200 and session.title in response.get_data(as_text=True)
    assert "Bạn đã điểm danh" not in response.get_data(as_text=True)
    mark(session, official, "late", by=None, source="roll_call")
    db.session.commit()
    assert "Bạn đã điểm danh (Đến muộn)" in client.get(url).get_data(as_text=True)
    assert page_as("official", "D213-01")[1].status_code == 404  # another district's official
    assert page_as("committee", "24")[1].status_code == 200  # the province's committee oversees it
    assert client.get("/check-in/999999").status_code == 404
