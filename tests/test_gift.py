"""GIFT as Moodle reads it: every question type, escapes, errors with lines, round trip."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnhub.quizzes.gift import (
    ANY_NUMBER, GAP, Answer, GiftError, Question, export_gift, parse_gift, question_to_dict,
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
                                           (" TRUE ", True), ("F #sai", False)])
def test_true_false_forms(flag, correct):
    q = one(f"Câu đúng sai {{{flag}}}")
    assert q.type == "truefalse" and q.correct is correct


@pytest.mark.parametrize("flag", ["true", "t", "False", "f", "Đúng"])
def test_true_false_is_case_sensitive_other_words_are_short_answers(flag):
    # Moodle only knows T, TRUE, F, FALSE; anything else is a one-answer short answer.
    q = one(f"Câu đúng sai {{{flag}}}")
    assert q.type == "shortanswer" and q.correct is None
    assert [(a.text, a.fraction) for a in q.answers] == [(flag, 1.0)]


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
    q = one(f"::Tên{escaped}x::Câu{escaped}hỏi {{=Đáp{escaped}án#Phản{escaped}hồi ~Khác}}")
    assert q.name == f"Tên{plain}x" and q.text == f"Câu{plain}hỏi"
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
    ("::A:: không điểm {~a ~b}", 1, "credit"),
    ("::A:: một đáp án {~a}", 1, "two answers"),
    ("::A:: đáp án rỗng {=a ~ ~b}", 1, "empty"),
    ("::A:: số {#}", 1, "at least one answer"),
    ("::A:: sai số {#5:năm}", 1, "tolerance 'năm' is not a number"),
    ("::A:: số {#1_000}", 1, "not a number"),
    ("::A:: khoảng {#1..x}", 1, "range end"),
    ("::A:: ghép {=a -> 1 =b}", 1, "has no ->"),
    ("::A:: chỉ nhiễu {= -> 1 = -> 2}", 1, "two pairs"),
    ("::A:: ngược {}\n}", 1, "only one answer block"),
    ("::A:: {=a} ::B:: {=b}", 1, "one answer block"),
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


# --- Moodle's reading, rule by rule ----------------------------------------

def test_unclosed_name_is_dropped_and_the_question_named_from_its_text():
    q = one("::Chưa đóng tên {T}")
    assert (q.type, q.name, q.text) == ("truefalse", "Chưa đóng tên", "Chưa đóng tên")


def test_default_name_strips_tags_and_shortens_like_moodle():
    assert one("[html]<p>Hồ sơ <b>một cửa</b></p> {T}").name == "Hồ sơ một cửa"
    # Longer than 80: cut after the last space within 77 characters, then "...".
    assert one(("abcdefg " * 15) + "{T}").name == ("abcdefg " * 9) + "..."
    assert one(("Audit " * 20) + "{T}").name == ("Audit " * 12) + "Audit..."


def test_text_before_the_first_marker_is_an_answer():
    short = one("Viết tắt của hệ thống quản lý chất lượng? {QMS =HTQLCL}")
    assert short.type == "shortanswer" and [a.text for a in short.answers] == ["QMS", "HTQLCL"]
    choice = one("Chọn một {Sai ~Cũng sai =Đúng}")
    assert choice.type == "multichoice"
    assert [(a.text, a.fraction) for a in choice.answers] == [("Sai", 0.0), ("Cũng sai", 0.0), ("Đúng", 1.0)]


def test_only_tildes_make_multiple_answers_an_equals_anywhere_makes_single_choice():
    assert one("Q {~%50%A ~%50%B ~%-100%C}").type == "multiresponse"
    single = one("Q {~%50%A =B ~C}")
    assert single.type == "multichoice" and [a.fraction for a in single.answers] == [0.5, 1.0, 0.0]


def test_text_that_only_looks_like_a_weight_stays_answer_text():
    q = one("Tỷ lệ nào? {=%abc%X ~%5 %Y ~%50%Z}")
    assert [(a.text, a.fraction) for a in q.answers] == [("%abc%X", 1.0), ("%5 %Y", 0.0), ("Z", 0.5)]


def test_numerical_wrong_answer_feedback_after_tilde_becomes_a_catch_all():
    q = one("Số nguyên tắc? {#7:0~#Chưa đúng, xem lại bài 2.}")
    assert [(a.text, a.fraction, a.feedback) for a in q.answers] == [
        ("7:0", 1.0, ""), ("*", 0.0, "Chưa đúng, xem lại bài 2.")]
    catch_all = q.answers[1]
    assert catch_all.min < -1e300 and catch_all.max > 1e300  # any number falls in it


@pytest.mark.parametrize("block, expected", [
    ("{# =2015:0 =%50%2008:0}", [("2015:0", 1.0), ("2008:0", 0.5)]),
    ("{#2015 =%50%2008}", [("2015:0", 1.0), ("2008:0", 0.5)]),
    ("{#2020..2010}", [("2010..2020", 1.0)]),
    ("{#=2015 =%0%*#Sai}", [("2015:0", 1.0), ("*", 0.0)]),
    ("{#1e3:5}", [("1000:5", 1.0)]),
    ("{#-3:-0.5}", [("-3:0.5", 1.0)]),
])
def test_numerical_answer_forms_moodle_accepts(block, expected):
    q = one(f"Năm? {block}")
    assert q.type == "numerical" and [(a.text, a.fraction) for a in q.answers] == expected


def test_matching_right_side_is_plain_text_and_a_distractor_may_be_the_second_entry():
    q = one("Ghép {=[html]<b>Điều 9</b> -> Đánh giá #9 =Điều 10 -> [plain]Cải tiến}")
    assert [(a.text, a.match) for a in q.answers] == [("<b>Điều 9</b>", "Đánh giá #9"),
                                                      ("Điều 10", "[plain]Cải tiến")]
    with_distractor = one("Ghép {Điều 9 -> Đánh giá = -> Hỗ trợ}")
    assert [(a.text, a.fraction, a.match) for a in with_distractor.answers] == [
        ("Điều 9", 1.0, "Đánh giá"), ("", 0.0, "Hỗ trợ")]


def test_formats_are_lower_case_and_only_at_the_very_start():
    for raw in ("[HTML]<p>x</p> {T}", "[latex]x {T}"):
        q = one(raw)
        assert q.text_format == "moodle" and q.text == raw[:-4]
    q = one("::N:: [markdown]**Đậm** {=a#[html]<i>tốt</i> ~[plain]b####[html]<p>chung</p>}")
    assert (q.text_format, q.text) == ("markdown", "**Đậm**")
    assert [(a.text, a.feedback) for a in q.answers] == [("a", "<i>tốt</i>"), ("b", "")]
    assert q.general_feedback == "<p>chung</p>"


def test_general_feedback_starts_at_the_last_four_hashes():
    q = one("Q {=a####một####hai}")
    assert q.general_feedback == "hai" and q.answers[0].feedback == "###một"
    # Moodle reads the [format] of general feedback only right after ####.
    assert one("Q {T#### [html]x}").general_feedback == "[html]x"


def test_essay_with_general_feedback_only():
    q = one("::E:: Nêu một ví dụ hồ sơ. {####Ví dụ: sổ theo dõi.}")
    assert (q.type, q.general_feedback, q.answers) == ("essay", "Ví dụ: sổ theo dõi.", [])


def test_missing_word_when_anything_follows_the_block_even_punctuation():
    q = one("Năm ban hành TCVN ISO 9001 là {#2015}.")
    assert q.type == "numerical" and q.missing_word and q.text == f"Năm ban hành TCVN ISO 9001 là {GAP}."
    assert one("{=Người đứng đầu ~Công chức} chịu trách nhiệm.").text == f"{GAP} chịu trách nhiệm."


def test_comment_lines_inside_a_question_count_as_a_space_line():
    q = one("Dòng một\n// ghi chú\nDòng hai {T}\n// cuối câu\n")
    assert q.text == "Dòng một\n \nDòng hai" and not q.missing_word
    q = one("Câu {\n=a#đúng\n// giữa các đáp án\n~b\n}")
    assert [(a.text, a.feedback) for a in q.answers] == [("a", "đúng"), ("b", "")]


def test_lines_keep_their_indentation_inside_a_question():
    q = one("::P::[html]<pre>\n    if (ok) \\{\n        luu();\n    \\}\n</pre>\n{}")
    assert q.text == "<pre>\n    if (ok) {\n        luu();\n    }\n</pre>"


def test_only_php_white_space_is_trimmed():
    q = one("\u00a0Khoảng trắng cứng {T}")
    assert q.text == "\u00a0Khoảng trắng cứng"


def test_category_applies_until_the_next_and_comment_only_chunks_are_skipped():
    questions = parse_gift("$CATEGORY: $course$/top/Bài 1\n\n// chỉ có ghi chú\n// thêm\n\n::A:: x {T}\n\n"
                           "$CATEGORY:bai-2\n\n::B:: y {F}\n")
    assert [(q.name, q.category) for q in questions] == [("A", "$course$/top/Bài 1"), ("B", "bai-2")]


def test_export_keeps_texts_that_look_like_syntax():
    q = Question("shortanswer", "N", "[html]<b>không</b> phải định dạng", "moodle", "", "[plain]chung", answers=[
        Answer("%50%", 1.0, "[markdown]x"), Answer("[html]y", 0.5)])
    assert parse_gift(export_gift([q])) == [q]
    n = Question("numerical", "S", "Số?", answers=[
        Answer("7:0", 1.0, value=7.0, tolerance=0.0), Answer("*", 0.0, "Sai", min=-ANY_NUMBER, max=ANY_NUMBER)])
    assert parse_gift(export_gift([n])) == [n]
    m = Question("multichoice", "M", "Chọn", answers=[Answer("a", 1.0), Answer("b", 1.0), Answer("c", 0.0)])
    assert parse_gift(export_gift([m])) == [m]


# --- property: export → parse is the identity --------------------------------

_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"),
                          exclude_characters="\ue000\ue001\ue002\ue003\ue004\ue005\ue006\ue007\u0085")
_SPECIAL = st.sampled_from(list("~=#{}:\\%[") + ["\n", " -> ", "%50%", "//", "[html]", "[plain]", "->", "..",
                                                  "####", "_____", "T", "TRUE"])
_VIET = st.sampled_from(["Đánh giá", "nội bộ", "hồ sơ", "một cửa", "ISO 9001:2015", "Điều 9.2"])


def _clean_text(value: str) -> str:
    value = "\n".join(line.strip() for line in value.split("\n"))
    return value.strip()


def texts(min_size=1):
    raw = st.lists(st.one_of(st.text(_ALPHABET, min_size=1, max_size=8), _SPECIAL, _VIET),
                   min_size=min_size, max_size=6).map("".join).map(_clean_text)
    # Texts may start with '[html]' or '%50%': export must keep them from being read as syntax.
    return raw.filter(lambda s: len(s) >= min_size and "_____" not in s and "->" not in s
                      and not s.startswith("//"))


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
            Answer(draw(texts()), draw(st.sampled_from([0.0, 0.5, -0.5, 1.0])), draw(fb))
            for _ in range(draw(st.integers(1, 4)))]
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
        if draw(st.booleans()):  # '*': any other number
            q.answers.append(Answer("*", 0.0, draw(fb), min=-ANY_NUMBER, max=ANY_NUMBER))
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
