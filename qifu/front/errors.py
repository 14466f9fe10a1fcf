"""Error pages in the user's language with a way back home (400, 403, 404, 500 and a failed CSRF check).

They render `front/error.html` without the request: no context processor runs and nothing is read from the
database, so the 500 page still shows when the database is what failed."""

from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PAGES = {
    400: (gettext_lazy("Bad request"),
          gettext_lazy("The request could not be understood. Check what you entered and try again.")),
    403: (gettext_lazy("Access denied"), gettext_lazy("You do not have permission to open this page.")),
    404: (gettext_lazy("Page not found"), gettext_lazy("The page does not exist or you may not see it.")),
    500: (gettext_lazy("Server error"),
          gettext_lazy("Something went wrong on our side. It has been logged; please try again later.")),
}


def _page(status: int, title: str = "", message: str = "") -> HttpResponse:
    default_title, default_message = PAGES.get(status, PAGES[500])
    html = loader.render_to_string("front/error.html", {
        "status": status, "title": title or str(default_title), "message": message or str(default_message),
    })
    return HttpResponse(html, status=status)


def bad_request(request, exception=None):
    """A plain BadRequest carries a message written for the user (e.g. a list's wrong date range)."""
    if type(exception) is BadRequest and exception.args:
        return _page(400, message=str(exception.args[0]))
    return _page(400)


def permission_denied(request, exception=None):
    return _page(403)


def page_not_found(request, exception=None):
    return _page(404)


def server_error(request):
    return _page(500)


def csrf_failure(request, reason=""):
    return _page(403, _("The form has expired"),
                 _("The page was open too long or came from another site. Go back, reload the page and try again."))
