"""The rows migrations seed survive a flush (tests/fixtures.py puts them back), so a test that flushes the database
(a browser journey, real worker processes) may run anywhere in the order, before tests that need those rows."""

import pytest
from django.core.management import call_command

from assessments.models import ScreeningRule
from patients.models import ConsentDocument, EducationModule

SEEDED = (ScreeningRule, ConsentDocument, EducationModule)


def rows():
    return {model.__name__: sorted(map(str, model.objects.values_list("pk", flat=True))) for model in SEEDED}


@pytest.mark.django_db(transaction=True)
def test_a_flush_puts_back_every_row_migrations_seeded_with_its_key():
    seeded = rows()
    assert all(seeded.values()), seeded

    call_command("flush", interactive=False, verbosity=0)

    assert rows() == seeded
    assert ConsentDocument.objects.current().filter(kind="kap_informed_consent").exists()
