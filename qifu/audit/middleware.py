from .context import _current, Actor


class AuditActorMiddleware:
    """Make the logged-in user the actor of everything recorded during the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        token = _current.set(Actor(user=user if user and user.is_authenticated else None, source="web"))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
