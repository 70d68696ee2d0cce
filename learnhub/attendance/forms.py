"""The conference session form."""
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from ..forms import Form, strip


class SessionForm(Form):
    title = StringField(_l("Title"), filters=[strip], validators=[
        InputRequired(_l("Enter a title.")), Length(max=300)])
    unit = SelectField(_l("District (or unit)"), coerce=int, validators=[
        InputRequired(_l("Choose the district (or unit) of the session."))])
    venue = StringField(_l("Venue"), filters=[strip], validators=[Length(max=300)])
    starts_at = DateTimeLocalField(_l("Starts (Vietnam time)"), format="%Y-%m-%dT%H:%M", validators=[
        InputRequired(_l("Enter the start and end as date and time."))])
    ends_at = DateTimeLocalField(_l("Ends (Vietnam time)"), format="%Y-%m-%dT%H:%M", validators=[
        InputRequired(_l("Enter the start and end as date and time."))])
    trainer = SelectField(_l("Trainer"), coerce=int, default=0)
    grace_minutes = IntegerField(_l("Check-in grace (minutes before and after)"), default=30, validators=[
        InputRequired(_l("Enter a number.")),
        NumberRange(0, 240, _l("The grace must be a number of minutes from 0 to 240."))])
