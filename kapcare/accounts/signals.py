from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from kapcare.middleware import start_session_clock


@receiver(user_logged_in)
def _start_session_clock(sender, request, user, **kwargs):
    start_session_clock(request)
