"""GIFT as Moodle reads it: every question type, escapes, errors with lines, round trip."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnhub.quizzes.gift import (
    GAP, Answer, GiftError, Question, export_gift, parse_gift, question_to_dict,
)


def one(text: str) -> Question:
    questions = parse_gift(text, "t.gift")
    assert len(questions) == 1
    return questions[0]


def test_multiple_choice_with_feedback_and_general_feedback():
    q = one("::Q1:: Bao nhiêu nguyên tắc? {=Bảy#Đúng ~Sáu#Thiếu một ~Tám####Bảy nguyên tắc.}")
    assert (q.type, q.name, q.text, q.general_feedback) == ("multichoice", "Q1", "Bao nhiêu nguyên tắc?", "Bảy nguyên tắc.")
    assert [(a.text, a.fraction, a.feedback) for a in q.answers] == [
        ("Bảy", 1.0, "Đúng"), ("Sáu", 0.0, "Thiếu một"), ("Tám", 0.0, "")]


def test_multiple_answers_with_weights_including_negative():
    q = one("Chọn hai {~%50%A ~%50%B ~%-100%C ~%33.33333%D}")
    assert q.type == "multiresponse"
    assert [a.fraction for a in q.answers] == [0.5, 0.5, -1.0, pytest.approx(0.3333333)]


def test_several_equals_answers_stay_single_choice_as_in_moodle():
    q = one("Q {=A =B ~C}")
    assert q.type == "multichoice" and [a.fraction for a in q.answers] == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("flag, correct", [("T", True), ("TRUE", True), ("F", False), ("FALSE", False),
                                           ("true", True), ("f", False)])
def test_true_false_forms(flag, correct):
    q = one(f"Câu đúng sai {{{flag}}}")
    assert q.type == "truefalse" and q.correct is correct


def test_true_false_feedback_order_is_wrong_then_right():
    q = one("Trái đất phẳng. {F#Sai rồi: nó tròn.#Đúng, nó không phẳng.####Chung}")
    by = {a.text: a for a in q.answers}
    assert by["true"].fraction == 0 and by["true"].feedback == "Sai rồi: nó tròn."
    assert by["false"].fraction == 1 and by["false"].feedback == "Đúng, nó không phẳng."
    assert q.general_feedback == "Chung"


def test_short_answer_with_weights_and_wildcard():
    q = one("Viết tắt? {=QMS =%50%HTQLCL#gần đúng =*quản lý*}")
    assert q.type == "shortanswer"
    assert [(a.text, a.fraction, a.feedback) for a in q.answers] == [
        ("QMS", 1.0, ""), ("HTQLCL", 0.5, "gần đúng"), ("*quản lý*", 1.0, "")]


@pytest.mark.parametrize("block, expected", [
    ("{#7}", [(7.0, 0.0, None, None, 1.0)]),
    ("{#3.14:0.01}", [(3.14, 0.01, None, None, 1.0)]),
    ("{#-2.5:0.5}", [(-2.5, 0.5, None, None, 1.0)]),
    ("{#1..5}", [(None, None, 1.0, 5.0, 1.0)]),
    ("{#=%100%3.14:0.005#chính xác =%50%3.1:0.1#gần}",
     [(3.14, 0.005, None, None, 1.0), (3.1, 0.1, None, None, 0.5)]),
])
def test_numerical_forms(block, expected):
    q = one(f"Số? {block}")
    assert q.type == "numerical"
    assert [(a.value, a.tolerance, a.min, a.max, a.fraction) for a in q.answers] == expected


def test_numerical_json_text():
    q = one("::N::Tỷ lệ? {#=92.5:0.1 =%50%90..95}")
    assert [a["text"] for a in question_to_dict(q)["answers"]] == ["92.5:0.1", "90..95"]


def test_matching_with_distractor():
    q = one("Ghép {=Điều 9 -> Đánh giá =Điều 10 -> Cải tiến = -> Hỗ trợ}")
    assert q.type == "matching"
    assert [(a.text, a.match) for a in q.answers] == [("Điều 9", "Đánh giá"), ("Điều 10", "Cải tiến"), ("", "Hỗ trợ")]
    assert [a["text"] for a in question_to_dict(q)["answers"]][-1] == " -> Hỗ trợ"


def test_essay_and_description():
    essay = one("::E:: Viết một đoạn. {}")
    assert essay.type == "essay" and essay.answers == []
    desc = one("Phần sau nói về đánh giá nội bộ.")
    assert desc.type == "description" and desc.text == "Phần sau nói về đánh giá nội bộ."


def test_missing_word_keeps_text_around_the_gap():
    q = one("Điều {=9.2 ~9.3} quy định đánh giá nội bộ.")
    assert q.type == "multichoice" and q.text == f"Điều {GAP} quy định đánh giá nội bộ."
    assert q.missing_word


def test_comments_categories_formats_and_blank_lines():
    questions = parse_gift("// đầu tệp\n$CATEGORY: khoa/bai-1\n\n::A::[markdown]**Đậm** {T}\n\n\n"
                           "// giữa\n$CATEGORY: khoa/bai-2\n::B::[html]<p>x</p> {F}\n::C continues:: no\n")
    assert [(q.name, q.category, q.text_format) for q in questions] == [
        ("A", "khoa/bai-1", "markdown"), ("B", "khoa/bai-2", "html")]


def test_question_spread_over_lines():
    q = one("::Nhiều dòng::\nCâu hỏi\ntrên hai dòng {\n=Đúng#phản hồi\n~Sai\n####Chung\n}")
    assert q.text == "Câu hỏi\ntrên hai dòng" and q.answers[0].feedback == "phản hồi" and q.general_feedback == "Chung"


@pytest.mark.parametrize("escaped, plain", [
    (r"\~", "~"), (r"\=", "="), (r"\#", "#"), (r"\{", "{"), (r"\}", "}"), (r"\:", ":"), ("\\\\", "\\"), (r"\n", "\n"),
])
def test_escapes_in_text_answers_and_feedback(escaped, plain):
    q = one(f"::Tên{escaped}::Câu{escaped}hỏi {{=Đáp{escaped}án#Phản{escaped}hồi ~Khác}}")
    assert q.name == f"Tên{plain}" and q.text == f"Câu{plain}hỏi"
    assert q.answers[0].text == f"Đáp{plain}án" and q.answers[0].feedback == f"Phản{plain}hồi"


def test_crlf_and_bom():
    data = "\ufeff::A:: Một {T}\r\n\r\n::B:: Hai {F}\r\n".encode("utf-8")
    assert [q.name for q in parse_gift(data, "x.gift")] == ["A", "B"]


@pytest.mark.parametrize("text, line, fragment", [
    ("::A:: ok {T}\n\n::B:: mở {=a ~b\n", 3, "braces"),
    ("::A:: ok {T}\n\n\n::B:: số {#abc}", 4, "not a number"),
    ("::A:: trọng số {~%150%a ~b}", 1, "outside"),
    ("::A:: ghép {=a -> 1}", 1, "two pairs"),
    ("::A:: {=a ~b} {=c}", 1, "one answer block"),
    ("::A chưa đóng {T}", 1, "not closed"),
    ("::A:: loại lạ {xyz}", 1, "type"),
    ("::A:: không điểm {~a ~b}", 1, "credit"),
])
def test_errors_carry_file_and_line(text, line, fragment):
    with pytest.raises(GiftError) as exc:
        parse_gift(text, "bank.gift")
    problem = exc.value.problems[0]
    assert (problem.file, problem.line) == ("bank.gift", line)
    assert fragment in problem.message
    assert str(exc.value).startswith(f"bank.gift:{line}: ")


def test_all_problems_reported_together():
    with pytest.raises(GiftError) as exc:
        parse_gift("::A:: {#x}\n\n::B:: ok {T}\n\n::C:: {=a -> 1}\n", "b.gift")
    assert [p.line for p in exc.value.problems] == [1, 5]


def test_non_utf8_is_an_error_with_line():
    with pytest.raises(GiftError) as exc:
        parse_gift(b"::A:: ok {T}\n\n::B:: \xff {T}\n", "b.gift")
    assert exc.value.problems[0].line == 3


def test_json_shape():
    data = [question_to_dict(q) for q in parse_gift("$CATEGORY: c\n::A:: x {=1 ~2}\n\n::B:: y {T#w#r}")]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert set(data[0]) == {"name", "type", "category", "text", "general_feedback", "answers"}
    assert data[1]["answers"] == [{"text": "true", "fraction": 1.0, "feedback": "r"},
                                  {"text": "false", "fraction": 0.0, "feedback": "w"}]


# --- property: export → parse is the identity --------------------------------

_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"),
                          exclude_characters="\ue000\ue001\ue002\ue003\ue004\ue005\ue006\ue007\u0085")
_SPECIAL = st.sampled_from(list("~=#{}:\\") + ["\n", " -> ", "%50%", "//", "[html]", "->", "..", "####", "_____"])
_VIET = st.sampled_from(["Đánh giá", "nội bộ", "hồ sơ", "một cửa", "ISO 9001:2015", "Điều 9.2"])


def _clean_text(value: str) -> str:
    value = "\n".join(line.strip() for line in value.split("\n"))
    return value.strip()


def texts(min_size=1):
    raw = st.lists(st.one_of(st.text(_ALPHABET, min_size=1, max_size=8), _SPECIAL, _VIET),
                   min_size=min_size, max_size=6).map("".join).map(_clean_text)
    return raw.filter(lambda s: len(s) >= min_size and "_____" not in s and not s.startswith("[")
                      and "->" not in s and "%" not in s[:1] and not s.startswith("//"))


def _single_line(s: str) -> str:
    return " ".join(s.split())


names = texts().map(_single_line).filter(bool)
fractions = st.sampled_from([1.0, 0.5, 0.0, -1.0, 0.25, 0.3333, -0.5])
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(lambda v: round(v, 4))


@st.composite
def questions(draw):
    kind = draw(st.sampled_from(["multichoice", "multiresponse", "truefalse", "shortanswer", "numerical",
                                 "matching", "essay", "description"]))
    q = Question(kind, draw(names), draw(texts()), draw(st.sampled_from(["moodle", "html", "markdown", "plain"])),
                 draw(st.sampled_from(["", "khoa/bai-1", "khoa/bai 2"])), "")
    if kind != "description":
        q.general_feedback = draw(st.one_of(st.just(""), texts()))
    fb = st.one_of(st.just(""), texts())
    if kind == "multichoice":
        q.answers = [Answer(draw(texts()), 1.0, draw(fb))] + [
            Answer(draw(texts()), draw(st.sampled_from([0.0, 0.5, -0.5])), draw(fb)) for _ in range(draw(st.integers(1, 4)))]
    elif kind == "multiresponse":
        q.answers = [Answer(draw(texts()), 0.5, draw(fb))] + [
            Answer(draw(texts()), draw(fractions.filter(lambda f: f != 1.0)), draw(fb)) for _ in range(draw(st.integers(1, 4)))]
    elif kind == "truefalse":
        q.correct = draw(st.booleans())
        right, wrong = draw(fb), draw(fb)
        if not right and wrong:
            right = "x"
        q.answers = [Answer("true", 1.0 if q.correct else 0.0, right if q.correct else wrong),
                     Answer("false", 0.0 if q.correct else 1.0, wrong if q.correct else right)]
    elif kind == "shortanswer":
        q.answers = [Answer(draw(texts()), draw(st.sampled_from([1.0, 0.5, 0.25])), draw(fb))
                     for _ in range(draw(st.integers(1, 3)))]
        q.answers[0].fraction = 1.0
    elif kind == "numerical":
        q.answers = []
        for i in range(draw(st.integers(1, 3))):
            frac = 1.0 if i == 0 else draw(st.sampled_from([0.5, 0.25, 1.0]))
            if draw(st.booleans()):
                lo, hi = sorted([draw(numbers), draw(numbers)])
                q.answers.append(Answer(f"{_n(lo)}..{_n(hi)}", frac, draw(fb), min=lo, max=hi))
            else:
                v, t = draw(numbers), abs(draw(numbers))
                q.answers.append(Answer(f"{_n(v)}:{_n(t)}", frac, draw(fb), value=v, tolerance=t))
    elif kind == "matching":
        q.answers = [Answer(draw(texts()), 1.0, "", match=draw(texts())) for _ in range(draw(st.integers(2, 4)))]
        if draw(st.booleans()):
            q.answers.append(Answer("", 0.0, "", match=draw(texts())))
    if draw(st.booleans()) and kind not in ("description",):
        q.text = q.text + " " + GAP + " " + draw(texts())
        q.missing_word = True
    return q


def _n(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(questions(), min_size=1, max_size=6))
def test_export_then_parse_is_the_identity(bank):
    assert parse_gift(export_gift(bank)) == bank


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300))
def test_arbitrary_text_raises_only_gift_error(text):
    try:
        parse_gift(text)
    except GiftError:
        pass
