"""accounts 0003-0005 squashed: Django's optimizer on their schema operations. A database that
applied only some of the replaced migrations goes on through them."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Not carried over (nothing to do on a fresh database): the backfills of 0003 (name_and_bound_existing_tokens,
# encrypt_mfa_secrets) and 0005 (approve_existing_clinicians).


class Migration(migrations.Migration):
    replaces = [
        ("accounts", "0003_add_api_token_and_encrypt_mfa_secrets"),
        ("accounts", "0004_indexes_for_planning"),
        ("accounts", "0005_clinician_approval"),
    ]

    dependencies = [
        ("accounts", "0002_add_clinician_credentials"),
        ("knox", "0009_extend_authtoken_field"),
        ("mfa", "0003_authenticator_type_uniq"),
        migrations.swappable_dependency(settings.KNOX_TOKEN_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                (
                    "auth_token",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="details",
                        to=settings.KNOX_TOKEN_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="licence",
            index=models.Index(fields=["expires_on"], name="licence_expiry"),
        ),
        migrations.AddField(
            model_name="clinicianprofile",
            name="approved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="clinicianprofile",
            name="approved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
