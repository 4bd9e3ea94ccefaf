from celery import shared_task
from django.utils import timezone
from knox.models import AuthToken


@shared_task
def purge_expired_api_tokens():
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
