"""Reads built once per process and shape (kapcare.prepared) answer what the queryset itself answers, for each user
and at each moment, and a build whose parameters would freeze a value refuses to be kept."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.db.backends.signals import connection_created
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapcare import prepared
from kapcare.accounts.models import User
from patients.access import visible_patients
from patients.models import CareTeamMember, Patient
from patients.selectors import patients_for_list

from .fixtures import refer


def _names(key, values):
    shape, limit = key
    return visible_patients(prepared.user_of(shape, values)).order_by("last_name", "id")[:limit]


def names_of(query, user, limit=10, **values):
    rows = query((prepared.user_shape(user), limit), **prepared.user_values(user), **values)
    return [patient.last_name for patient in rows]


@pytest.fixture
def names():
    return prepared.Prepared(_names, slots=prepared.USER_SLOTS)


@override_settings(KAPCARE_PREPARED_CHECK=False)  # what is kept answers alone, not the check's fresh build
def test_each_user_and_role_gets_their_own_rows_from_one_kept_query(
    names, therapist_a, therapist_b, prescriber, coordinator, admin_user, patient_a, patient_b
):
    refer(therapist_a, "Nova", "Quill", "nova@example.test")
    for user in (therapist_a, therapist_b, prescriber, coordinator, admin_user):
        expected = list(patients_for_list(user).order_by("last_name", "id").values_list("last_name", flat=True))
        assert names_of(names, user) == expected, user.role
    assert names_of(names, therapist_a) == ["Alder", "Quill"]
    assert names_of(names, therapist_b) == [patient_b.last_name]
    assert names_of(names, admin_user) == []
    # One shape per role (and limit), built once: the therapists share theirs.
    assert len(names._entries) == 4
    assert names_of(names, therapist_a, limit=1) == ["Alder"]
    assert len(names._entries) == 5


@override_settings(KAPCARE_PREPARED_CHECK=False)
def test_the_clock_is_read_at_each_call_not_at_the_build(names, therapist_a, patient_a):
    assert names_of(names, therapist_a) == ["Alder"]
    CareTeamMember.objects.filter(clinician=therapist_a).update(active_to=timezone.now() + timedelta(hours=1))
    assert names_of(names, therapist_a) == ["Alder"]
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        assert names_of(names, therapist_a) == []  # off the care team now: the kept SQL asks at this call's now
    assert names_of(names, therapist_a, now=timezone.now() + timedelta(hours=2)) == []


def test_a_value_derived_inside_the_build_is_refused(therapist_a):
    window = prepared.Prepared(
        lambda key, values: Patient.objects.filter(created_at__gte=values.now - timedelta(days=1)), slots={}
    )
    with pytest.raises(prepared.PreparedQueryError, match="varies but is no slot"):
        window("day")
    today = prepared.Prepared(
        lambda key, values: Patient.objects.filter(date_of_birth__lt=timezone.localdate()), slots={}
    )
    with pytest.raises(prepared.PreparedQueryError, match="varies but is no slot"):
        today("today")


def test_a_user_field_the_key_does_not_name_fails_the_build(therapist_a):
    by_name = prepared.Prepared(
        lambda key, values: Patient.objects.filter(last_name=prepared.user_of(key, values).last_name),
        slots=prepared.USER_SLOTS,
    )
    with pytest.raises(User.DoesNotExist):
        by_name(prepared.user_shape(therapist_a), **prepared.user_values(therapist_a))


def test_a_shape_that_changes_with_its_slots_is_refused():
    def build(key, values):
        patients = Patient.objects.all()
        return patients.filter(stage="referred") if values.now.year > 2250 else patients

    with pytest.raises(prepared.PreparedQueryError, match="shape changes"):
        prepared.Prepared(build, slots={})("any")


def test_the_check_under_the_tests_finds_a_kept_query_that_no_longer_matches(names, therapist_a, patient_a):
    assert names_of(names, therapist_a) == ["Alder"]  # checked against a fresh build: the same
    entry = next(iter(names._entries.values()))
    entry.sql += " "
    with pytest.raises(prepared.PreparedQueryError, match="not what the queryset compiles to"):
        names_of(names, therapist_a)


@override_settings(KAPCARE_PREPARED_CHECK=1)
def test_a_number_checks_that_many_calls_of_each_kept_query(names, therapist_a, patient_a):
    assert names_of(names, therapist_a) == ["Alder"]  # the first call: checked
    entry = next(iter(names._entries.values()))
    entry.sql += " "
    assert names_of(names, therapist_a) == ["Alder"]  # the second: not checked, so the changed SQL runs
    with (
        override_settings(KAPCARE_PREPARED_CHECK=True),
        pytest.raises(prepared.PreparedQueryError, match="not what the queryset compiles to"),
    ):
        names_of(names, therapist_a)


def test_past_the_kept_shapes_a_query_is_built_as_usual(therapist_a, patient_a):
    names = prepared.Prepared(_names, slots=prepared.USER_SLOTS, max_entries=1)
    assert names_of(names, therapist_a, limit=5) == ["Alder"]
    assert names_of(names, therapist_a, limit=1) == ["Alder"]  # not kept, the same answer
    assert len(names._entries) == 1


def test_a_list_of_ids_as_slots(therapist_a, patient_a, patient_b):
    by_ids = prepared.Prepared(
        lambda key, values: Patient.objects.filter(pk__in=prepared.ids_of(values)).order_by("last_name"),
        slots=prepared.id_slots(),
    )
    assert [p.pk for p in by_ids("ids", **prepared.id_values([patient_a.pk]))] == [patient_a.pk]
    both = by_ids("ids", **prepared.id_values([patient_b.pk, patient_a.pk, patient_a.pk]))
    assert sorted(p.pk for p in both) == sorted([patient_a.pk, patient_b.pk])


def test_on_postgresql_the_kept_sql_is_prepared_once_per_connection(names, therapist_a, patient_a):
    def run():
        with CaptureQueriesContext(connection) as captured:
            assert names_of(names, therapist_a) == ["Alder"]
        [query] = captured.captured_queries
        return query["sql"]

    assert run().startswith("PREPARE kapcare_")
    assert run().startswith("EXECUTE kapcare_")
    assert run().startswith("EXECUTE kapcare_")
    wrapper = connections["default"]  # what Django sends, not the `connection` proxy
    connection_created.send(sender=type(wrapper), connection=wrapper)  # a new connection has none prepared
    assert run().startswith("PREPARE kapcare_")


@override_settings(KAPCARE_SERVER_PREPARED_STATEMENTS=False)
def test_without_server_statements_the_kept_sql_is_sent_as_it_is(therapist_a, patient_a):
    names = prepared.Prepared(_names, slots=prepared.USER_SLOTS)
    with CaptureQueriesContext(connection) as captured:
        assert names_of(names, therapist_a) == ["Alder"]
    assert captured.captured_queries[0]["sql"].startswith("SELECT ")


@override_settings(KAPCARE_PREPARED_CHECK=False)
def test_rows_for_ids_answer_alike_prepared_or_built_and_ask_nothing_for_none(patient_a, patient_b, patient_x):
    def teams(ids):
        return CareTeamMember.objects.filter(patient_id__in=ids).order_by("patient__last_name", "role")

    for_two = prepared.PreparedForIds(teams, count=2)
    for_one = prepared.PreparedForIds(teams, count=1)  # three distinct ids, past its one slot: built as usual
    ids = [patient_a.pk, patient_b.pk, patient_a.pk]  # a repeated id counts once
    expected = list(teams(ids))
    assert expected

    assert for_two(ids) == expected
    assert for_one([*ids, patient_x.pk]) == list(teams([*ids, patient_x.pk]))
    with CaptureQueriesContext(connection) as queries:
        assert for_two([]) == []
    assert len(queries) == 0
