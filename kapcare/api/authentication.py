"""API token authentication: knox's, minus a query per request."""

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.signals import token_expired


class TokenAuthentication(auth.TokenAuthentication):
    """knox reads every token the caller holds on each request to delete their expired ones; here only the
    token presented is checked (an expired one is deleted and refused). The others are deleted by the hourly
    task kapcare.accounts.tasks.purge_expired_api_tokens, so an expired token never authenticates either way."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of knox's tokens, for this subclass too."""

    target_class = "kapcare.api.authentication.TokenAuthentication"
