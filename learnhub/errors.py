"""Error pages in the user's language."""
from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError

from .extensions import db, login_manager

RETRY_AFTER_SECONDS = 10


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

    @app.errorhandler(OperationalError)
    def database_unavailable(e):
        # The database is restarting, failing over or unreachable (the driver reports these as
        # OperationalError, and so does a dropped connection): the request can be sent again
        # in a moment, so say so (503 + Retry-After) instead of a 500. Its transaction is gone.
        app.logger.warning("Database unavailable, answered 503: %s", getattr(e, "orig", e))
        try:
            db.session.rollback()
        except Exception:  # the connection may be past rolling back; the pool discards it
            pass
        # The page itself must not need the database: render it for an anonymous visitor
        # (loading the logged-in user would query it again).
        g._login_user = login_manager.anonymous_user()
        body, code = page(503, _("Temporarily unavailable"),
                          _("The server cannot reach its database for a moment, so this request was not saved. Wait a few seconds and try again."))
        return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @app.teardown_appcontext
    def close_session_even_if_the_database_left(exc):
        # A request's response is ready before its session is closed, and closing rolls back
        # the (read) transaction. If the database went away in between (a restart), that
        # rollback fails; the connection is already discarded, and the ready response must not
        # become a 500. Registered after Flask-SQLAlchemy's own teardown, so it runs first
        # (teardowns run in reverse) and leaves that one nothing to do.
        try:
            db.session.remove()
        except DBAPIError as e:
            app.logger.warning("Database unavailable while closing the session: %s", getattr(e, "orig", e))
            db.session.registry.clear()

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return page(500, _("Something went wrong"), _("The server could not finish this request; nothing was half-saved. Try again in a moment."))
