from flask_babel import lazy_gettext as _l
from ..forms import Form
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

ROLE_CHOICES = [
    ("official", _l("Official")),
    ("trainer", _l("Trainer")),
    ("committee", _l("Committee member")),
    ("admin", _l("Administrator")),
]


class UserForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter a username.")), Length(max=80)],
                           render_kw={"autocapitalize": "none"})
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the full name.")), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    unit_code = SelectField(_l("Unit"), choices=[], validate_choice=False)
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(_l("This email address is not valid."))])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    password = PasswordField(_l("Initial password (leave empty to generate one)"), validators=[Optional()],
                             render_kw={"autocomplete": "new-password"})


class ImportForm(Form):
    file = FileField(_l("CSV or XLSX file"), validators=[
        FileRequired(_l("Choose a CSV or XLSX file.")),
        FileAllowed(["csv", "txt", "xlsx"], _l("The file must be .csv or .xlsx."))])


class EditUserForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the full name.")), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    unit_code = SelectField(_l("Unit"), choices=[], validate_choice=False)
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(_l("This email address is not valid.")), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
