"""Version 1 of the four consent documents and the education modules, published on migration."""

from django.db import migrations
from django.utils import timezone


def forward(apps, schema_editor):
    from patients import content

    content.seed(
        apps.get_model("patients", "ConsentDocument"), apps.get_model("patients", "EducationModule"), timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_refuse_changes_to_signed_consents")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
