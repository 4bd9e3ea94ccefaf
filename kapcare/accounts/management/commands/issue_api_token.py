from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kapcare.accounts import services


class Command(BaseCommand):
    help = "Issue an API token for a user. The token is printed once, on the last line; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("email")
        default = settings.REST_KNOX["TOKEN_TTL"].days
        parser.add_argument(
            "--days",
            type=int,
            default=default,
            help=f"Days until the token expires (default {default}, at most {settings.API_TOKEN_MAX_DAYS}).",
        )
        parser.add_argument("--name", default="Issued by issue_api_token", help="What the token is for.")

    def handle(self, email, days, name, **options):
        if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {settings.API_TOKEN_MAX_DAYS}.")
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the e-mail address {email}.")
        try:
            api_token, token = services.api_token_create(actor=None, user=user, name=name, days=days)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        expiry = api_token.auth_token.expiry
        self.stdout.write(f"Token for {user.email} ({user.role}), expires {expiry:%Y-%m-%d %H:%M} UTC.")
        self.stdout.write(token)
