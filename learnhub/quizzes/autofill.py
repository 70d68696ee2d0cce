"""The form a learner who knows every answer would post for an attempt.

Used to build demo data (`seed-demo`) and in tests; never served to learners.
"""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from .models import QuizAttempt


def answer_form(attempt: QuizAttempt, wrong: bool = False) -> MultiDict:
    form = MultiDict()
    for answer in attempt.answers:
        q, data, name = answer.question, answer.question.data, f"q{answer.slot}"
        form.add(f"{name}-shown", "1")
        if q.qtype == "multichoice":
            pick = (min if wrong else max)(range(len(data["answers"])), key=lambda i: data["answers"][i]["fraction"])
            form.add(name, str(answer.order.index(pick)))
        elif q.qtype == "multiresponse":
            for i, a in enumerate(data["answers"]):
                if (a["fraction"] > 0) != wrong:
                    form.add(name, str(answer.order.index(i)))
        elif q.qtype == "truefalse":
            form.add(name, "true" if data["correct"] != wrong else "false")
        elif q.qtype == "shortanswer":
            best = max(data["answers"], key=lambda a: a["fraction"])
            form.add(name, "—" if wrong else best["text"].replace("*", "x").upper())
        elif q.qtype == "numerical":
            best = max(data["answers"], key=lambda a: a["fraction"])
            value = best["value"] if best.get("value") is not None else (best["min"] + best["max"]) / 2
            form.add(name, "-999999" if wrong else repr(value))
        elif q.qtype == "matching":
            for i, pair in enumerate(data["pairs"]):
                target = pair["right"] if not wrong else next(r for r in data["rights"] if r != pair["right"])
                form.add(f"{name}-m{i}", str(answer.order.index(data["rights"].index(target))))
        elif q.qtype == "essay":
            form.add(name, "Sổ theo dõi hồ sơ (mẫu 07) và phiếu kiểm soát quá trình giải quyết hồ sơ (mẫu 06).")
    return form
