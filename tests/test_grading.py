"""Grading as Moodle does it: pure, from a parsed GIFT question to a fraction."""
import unicodedata

import pytest

from learnhub.quizzes.gift import parse_gift
from learnhub.quizzes.grading import grade
from learnhub.quizzes.rendering import question_data


def data_of(gift_text: str):
    question = parse_gift(gift_text)[0]
    return question.type, question_data(question)


def fraction(gift_text: str, response: dict) -> float:
    qtype, data = data_of(gift_text)
    return grade(qtype, data, response).fraction


def test_short_answer_ignores_case_accents_encoding_and_spacing():
    bank = "Tên viết tắt của hệ thống quản lý chất lượng? {=Hệ thống quản lý chất lượng =HTQLCL}"
    decomposed = unicodedata.normalize("NFD", "hệ   thống quản LÝ chất lượng")
    assert fraction(bank, {"text": decomposed}) == 1.0
    assert fraction(bank, {"text": " htqlcl "}) == 1.0
    assert fraction(bank, {"text": "hệ thống"}) == 0.0


def test_short_answer_wildcard_and_first_matching_answer_decides():
    bank = "Năm ban hành? {=%50%20* =2015}"
    assert fraction(bank, {"text": "2015"}) == 0.5  # the first answer that matches, as in Moodle
    assert fraction(bank, {"text": "2008"}) == 0.5
    assert fraction(bank, {"text": "1990"}) == 0.0


def test_numerical_tolerance_ranges_comma_and_first_match():
    assert fraction("Số nguyên tắc? {#7:0}", {"text": "7"}) == 1.0
    assert fraction("Tỉ lệ? {#92.5:0.5}", {"text": "92,8"}) == 1.0
    assert fraction("Tỉ lệ? {#92.5:0.5}", {"text": "93,1"}) == 0.0
    assert fraction("Khoảng? {#1..5}", {"text": "4.99"}) == 1.0
    assert fraction("Năm? {#=%50%2015:10 =2015:0}", {"text": "2015"}) == 0.5
    assert fraction("Năm? {#=2015:0 =%50%2015:10}", {"text": "2010"}) == 0.5


def test_multiple_answers_sum_weights_and_never_go_below_zero():
    bank = "Chọn nguyên tắc? {~%50%Hướng vào khách hàng ~%50%Cải tiến ~%-100%Kiểm tra cuối cùng}"
    assert fraction(bank, {"choices": [0, 1]}) == 1.0
    assert fraction(bank, {"choices": [0]}) == 0.5
    assert fraction(bank, {"choices": [0, 2]}) == 0.0


def test_matching_gives_credit_per_pair():
    bank = "Ghép? {=Kế hoạch -> P =Thực hiện -> D =Kiểm tra -> C = -> X}"
    assert fraction(bank, {"matches": {"0": "P", "1": "D", "2": "X"}}) == pytest.approx(2 / 3)


def test_true_false_feedback_follows_the_chosen_value():
    qtype, data = data_of("Có bảy nguyên tắc. {T#Sai rồi#Đúng}")
    chosen_true = grade(qtype, data, {"value": True})
    chosen_false = grade(qtype, data, {"value": False})
    assert chosen_true.fraction == 1.0 and "Đúng" in chosen_true.feedback[0]
    assert chosen_false.fraction == 0.0 and "Sai rồi" in chosen_false.feedback[0]
