"""The conference session form."""
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from ..forms import Form, strip
from .services import ROTATION_CHOICES


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
    rotate_seconds = SelectField(
        _l("Check-in code on the projector"), coerce=int, default=0,
        description=_l("A changing code stops a photo of the screen from working outside the hall; "
                       "the QR code printed on the sign-in sheet then does not work."),
        choices=[(0, _l("One code for the whole session"))] + [
            (s, _l("Changes every %(s)d seconds", s=s)) for s in ROTATION_CHOICES])
