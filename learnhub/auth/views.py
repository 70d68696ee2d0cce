import threading

from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..i18n import safe_next
from ..mail import mail_configured, send_mail
from ..orgs.models import OrgUnit
from ..urls import external_url
from .forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from .reset import accounts_to_mail, reset_contacts, reset_token, reset_with_token, user_for_token
from .services import AccountError, authenticate, change_password, end_other_sessions

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("certificates.home")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except AccountError as exc:
            db.session.commit()  # the failure counts, on every server
            flash(str(exc), "error")
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            session["must_change_password"] = user.must_change_password
            target = safe_next(request.args.get("next"), None)
            if user.must_change_password:
                # Where they were going (a check-in from the QR code) waits for the new password.
                flash(_("Please choose your own password before you continue."), "info")
                return redirect(url_for("auth.change_password_view", next=target))
            return redirect(target or url_for("certificates.home"))
    return render_template("auth/login.html", form=form,
                           demo=current_app.config.get("DEMO_MODE"))


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.pop("must_change_password", None)
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except AccountError as exc:
            getattr(form, exc.field or "new").errors.append(str(exc))
        else:
            db.session.commit()
            _stay_logged_in()
            session.pop("must_change_password", None)
            flash(_("Your password has been changed. Every other device logged in to your account has been logged out."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("certificates.home")))
    return render_template("auth/password.html", form=form)


def _stay_logged_in() -> None:
    """After the session token changed: keep this device logged in (and remembered, if it was)."""
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    login_user(current_user._get_current_object(), remember=remembered)


@bp.post("/account/sessions/end")
@login_required
def end_sessions():
    end_other_sessions(current_user)
    db.session.commit()
    _stay_logged_in()
    flash(_("Every other device logged in to your account has been logged out."), "success")
    return redirect(url_for("auth.change_password_view"))


@bp.before_app_request
def force_password_change():
    # Someone on a temporary password goes nowhere else until they choose their own.
    # The flag rides in the session, so static files and health checks load no user.
    if (session.get("must_change_password") and "_user_id" in session
            and request.endpoint not in {"auth.change_password_view", "auth.logout", "static",
                                         "healthz", "set_language"}):
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.change_password_view", next=safe_next(target, None)))
    return None


# --- forgotten passwords ----------------------------------------------------

def _unit_options() -> list[tuple[str, str, int]]:
    return [(code, f"{kind} {name}".strip(), depth) for code, name, kind, depth in db.session.execute(
        select(OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.depth)
        .where(OrgUnit.is_active.is_(True)).order_by(OrgUnit.path))]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    """Who can reset a password, by unit; and a reset link by email where that is possible.
    The page answers every request the same way, whether or not an account matched."""
    code = (request.values.get("unit") or "").strip()[:32]
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code, OrgUnit.is_active.is_(True))) if code else None
    can_mail = mail_configured()
    form = ForgotPasswordForm()
    sent = False
    if can_mail and form.validate_on_submit():
        messages = []
        for user in accounts_to_mail(form.identifier.data):
            link = external_url("auth.reset_password_view", token=reset_token(user))
            messages.append((user.email, _("LearnHub: reset your password"), _(
                "Hello %(name)s,\n\nSomeone (probably you) asked to reset the password of the LearnHub account "
                "%(username)s. Open this link within 1 hour to choose a new password; it works once:\n\n%(link)s\n\n"
                "If you did not ask for it, ignore this message: your password stays as it is.",
                name=user.full_name, username=user.username, link=link)))

        if messages:
            # Sent beside the answer, not before it, so its duration says nothing about the account.
            app = current_app._get_current_object()

            def send():
                with app.app_context():
                    for to, subject, body in messages:
                        send_mail(to, subject, body)
            threading.Thread(target=send, name="password-reset-mail", daemon=True).start()
        sent = True
        form.identifier.data = ""
    return render_template("auth/forgot.html", form=form, can_mail=can_mail, sent=sent, unit=unit,
                           units=_unit_options(), contacts=reset_contacts(unit))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password_view(token: str):
    user = user_for_token(token)
    if user is None:
        return render_template("auth/reset.html", form=None), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset_with_token(token, form.new.data)
        except AccountError as exc:
            form.new.errors.append(str(exc))
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.pop("must_change_password", None)
            flash(_("Your password has been changed. Every device logged in to your account has been logged out. Log in with the new password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user)
