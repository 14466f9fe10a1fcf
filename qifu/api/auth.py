from ninja.security import HttpBearer, django_auth

from qifu.accounts.models import ApiToken
from qifu.audit.context import set_actor


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with a token from `qifu token create USERNAME`."""

    def authenticate(self, request, token):
        user = ApiToken.objects.authenticate(token)
        if user is None:
            return None
        request.user = user
        set_actor(user, "api")
        return user


# The logged-in browser session also works (CSRF checked by ninja); the web middleware sets its actor.
AUTH = [BearerToken(), django_auth]
