"""The WSGI application (`qifu serve` runs it under gunicorn; any WSGI server can)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qifu.settings")
_django = get_wsgi_application()


class _NoBody:
    """The answer to a HEAD request: headers only (RFC 9110), closing Django's response as usual."""

    def __init__(self, result):
        self._result = result

    def __iter__(self):
        return iter(())

    def close(self):
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def application(environ, start_response):
    result = _django(environ, start_response)
    if environ.get("REQUEST_METHOD") == "HEAD":
        return _NoBody(result)
    return result
