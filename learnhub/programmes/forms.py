"""The programme form."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form, strip


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProgrammeForm(Form):
    title = StringField(_l("Title"), filters=[strip], validators=[
        InputRequired(_l("Enter a title.")), Length(max=300)])
    code = StringField(_l("Code (letters, digits, hyphens)"), filters=[strip], validators=[
        InputRequired(_l("Enter a code.")),
        Regexp(r"^[A-Za-z0-9-]{2,60}$", message=_l("Use 2 to 60 letters without accents, digits or hyphens."))])
    description = TextAreaField(_l("Description"), filters=[strip])
    courses = CheckboxesField(_l("Required courses"), coerce=int, validators=[
        InputRequired(_l("Choose at least one required course."))])
    requires_attendance = BooleanField(_l("Conference attendance is required"), default=True)
    units = CheckboxesField(_l("Target units (officials below them are enrolled)"), coerce=int, validators=[
        InputRequired(_l("Choose at least one target unit."))])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    validity_months = IntegerField(_l("Certificate valid for (months, 0 = no expiry)"), default=0, validators=[
        InputRequired(_l("Enter a number.")),
        NumberRange(0, 240, _l("The validity must be a whole number of months from 0 to 240."))])
    issuer_name = StringField(_l("Issued by"), filters=[strip], validators=[Length(max=300)])
