from allauth.account.internal.flows.login import record_authentication
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from knox.models import AuthToken

from kapcare.middleware import start_session_clock

from .models import User


@receiver(user_logged_in)
def _start_session_clock(sender, request, user, **kwargs):
    start_session_clock(request)


@receiver(post_save, sender=Authenticator)
def _enrolment_verifies_the_session(sender, instance, created, **kwargs):
    """Enrolling means typing a valid code: the session that enrolled TOTP has passed the second factor.

    allauth's own `authenticator_added` signal comes on commit, after this request's session may be saved."""
    request = allauth_context.request
    if not created or instance.type != Authenticator.Type.TOTP or request is None:
        return
    if request.user.is_authenticated and request.user.pk == instance.user_id:
        record_authentication(request, request.user, "mfa", id=instance.pk, type=instance.type, enrolled=True)


@receiver(pre_save, sender=AuthToken)
def _every_token_expires(sender, instance, **kwargs):
    if instance.expiry is None:
        raise ValueError("Every API token has an expiry (kapcare.accounts.services.api_token_create).")


@receiver(post_save, sender=User)
def _revoke_tokens_of_a_changed_account(sender, instance, created, update_fields, **kwargs):
    """A new password or a deactivated account ends every API token of that user.

    `_password` is set by set_password() until AbstractBaseUser.save() returns, so it is still there here."""
    if created:
        return
    fields = set(update_fields or ())
    password_changed = instance._password is not None and (not fields or "password" in fields)
    deactivated = not instance.is_active and (not fields or "is_active" in fields)
    if password_changed or deactivated:
        from .services import api_tokens_revoke_all

        api_tokens_revoke_all(actor=None, user=instance)
