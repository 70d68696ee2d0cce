"""Error pages in the user's language."""
from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .extensions import db


def register_error_handlers(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(400)
    def bad_request(e):
        return page(400, _("Bad request"), _("The request could not be understood. Go back and try again."))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return page(400, _("The form has expired"),
                    _("The form was sent without its security token or after it expired. Reload the page and send it again; nothing was saved."))

    @app.errorhandler(403)
    def forbidden(e):
        return page(403, _("Not allowed"), _("Your account does not have access to this page."))

    @app.errorhandler(404)
    def not_found(e):
        return page(404, _("Page not found"), _("The page you asked for does not exist or has been removed."))

    @app.errorhandler(413)
    def too_large(e):
        limit = (request.max_content_length or 0) // (1024 * 1024)
        return page(413, _("File too large"),
                    _("What was sent is larger than this form accepts (%(limit)s MB); nothing was saved.", limit=limit))

    @app.errorhandler(429)
    def too_many(e):
        return page(429, _("Too many attempts"), _("Too many attempts in a short time. Wait a minute and try again."))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return page(500, _("Something went wrong"), _("The server could not finish this request; nothing was half-saved. Try again in a moment."))
