from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from ..forms import Form


class QuizSettingsForm(Form):
    questions_per_attempt = IntegerField(_l("Questions per attempt"), validators=[
        InputRequired(_l("Enter a number.")), NumberRange(1, 500, _l("From 1 to 500."))])
    shuffle_questions = BooleanField(_l("Shuffle the questions"))
    shuffle_answers = BooleanField(_l("Shuffle the choices within each question"))
    time_limit_minutes = IntegerField(_l("Time limit (minutes, 0 = none)"), validators=[
        InputRequired(_l("Enter a number.")), NumberRange(0, 1440, _l("From 0 to 1440."))])
    max_attempts = IntegerField(_l("Maximum attempts (0 = unlimited)"), validators=[
        InputRequired(_l("Enter a number.")), NumberRange(0, 100, _l("From 0 to 100."))])
    pass_percent = DecimalField(_l("Pass mark (%)"), places=None, validators=[
        InputRequired(_l("Enter a number.")), NumberRange(0, 100, _l("From 0 to 100."))])
    grading = SelectField(_l("Grade kept"), choices=[
        ("highest", _l("Highest attempt")), ("last", _l("Last attempt"))])
    review = SelectField(_l("Show which answers were right or wrong, with the feedback"), choices=[
        ("after_attempt", _l("After each attempt")), ("after_pass", _l("Only once the quiz is passed"))])
    right_answers = SelectField(_l("Show the correct answers"), choices=[
        ("after_close", _l("Once the quiz is passed or no attempt is left")),
        ("after_attempt", _l("After each attempt (practice quizzes)"))])

    def settings(self) -> dict:
        values = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        values["pass_percent"] = float(values["pass_percent"])
        return values
