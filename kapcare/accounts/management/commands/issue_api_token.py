from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken


class Command(BaseCommand):
    help = "Issue an API token for a user. The token is printed once, on the last line; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--days", type=int, default=30, help="Days until the token expires (default 30).")

    def handle(self, email, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the e-mail address {email}.")
        instance, token = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
        self.stdout.write(f"Token for {user.email} ({user.role}), expires {instance.expiry:%Y-%m-%d %H:%M} UTC.")
        self.stdout.write(token)
