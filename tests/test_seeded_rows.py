"""Flushing the test database (after a transactional test or a browser journey): every row a test wrote goes,
append-only and signed ones included (tests/database empties the tables with DELETE, faster than TRUNCATE), and
the rows migrations seed come back (tests/fixtures.py), so a test that flushes may run anywhere in the order."""

import pytest
from django.core.management import call_command

from assessments.models import ScreeningRule
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from patients.models import ConsentDocument, EducationModule

from .fixtures import refer

SEEDED = (ScreeningRule, ConsentDocument, EducationModule)


def rows():
    return {model.__name__: sorted(map(str, model.objects.values_list("pk", flat=True))) for model in SEEDED}


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_every_table_and_puts_back_the_seeded_rows_with_their_keys(therapist_a):
    seeded = rows()
    assert all(seeded.values()), seeded
    patient = refer(therapist_a, "Flush", "Test", "flush@example.test")
    audit_record(therapist_a, AuditEvent.Action.READ, patient)  # append-only: its trigger refuses any DELETE

    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)  # as a transactional test does

    assert (User.objects.count(), AuditEvent.objects.count(), patient.__class__.objects.count()) == (0, 0, 0)
    assert rows() == seeded
    assert ConsentDocument.objects.current().filter(kind="kap_informed_consent").exists()
