"""Every API route × method × role × target patient, and what the policy says must happen.

Targets, seen from the cast of tests/fixtures.py:
  A   patient_a:  therapist A's patient, prescriber on the team, the `patient` user's own record
  A2  patient_a2: same practice as therapist A but another therapist's patient; no prescriber yet
  B   patient_b:  practice B's patient, prescriber on the team, the `other_patient` user's own record
  X   patient_x:  another medical group altogether

So for therapist A, A is own, A2 is foreign (same practice) and B is the other practice's.

A denial must leak no field of the patient, change no row, and leave an audit row.
Later issues add their routes' rows here; a route under /api/ missing from ROUTES fails the suite.

The cast and the four targets are made once for the module (`world`), with a signed-in session per role, and each
case runs in its own savepoint inside that, as `tests/test_fuzz_api.py` does. The records a patient route acts on
(a draft, a session, a prescription...) are made once for the consecutive cases of that route (`route_records`).
Not an xdist group: as one group on one worker the module took twice as long (likely the dead rows of 1,168
rolled-back savepoints piling up in one transaction, which the write check scans), so each worker runs about half
the cases.
"""

import re
from dataclasses import dataclass, field
from datetime import time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from kapcare.audit.models import AuditEvent
from patients.models import Patient

from .fixtures import kept_for_the_module, make_world, next_clinic_hour

ROLES = ["therapist_a", "therapist_b", "prescriber", "coordinator", "patient", "other_patient", "admin", "anonymous"]
TARGETS = ["A", "A2", "B", "X"]


def row(*statuses):
    """Expected status per target A, A2, B, X."""
    return dict(zip(TARGETS, statuses, strict=True))


# Expected status of a request about one patient, by role and target.
READ_PATIENT = {
    "therapist_a": row(200, 404, 404, 404),
    "therapist_b": row(404, 404, 200, 404),
    "prescriber": row(200, 404, 200, 404),
    "coordinator": row(200, 200, 200, 404),
    "patient": row(200, 404, 404, 404),
    "other_patient": row(404, 404, 200, 404),
    "admin": row(404, 404, 404, 404),
    "anonymous": row(401, 401, 401, 401),
}
CHANGE_PATIENT = {
    **READ_PATIENT,
    "patient": row(403, 404, 404, 404),
    "other_patient": row(404, 404, 403, 404),
}
READ_ACCESS_HISTORY = {
    **READ_PATIENT,
    "coordinator": row(403, 403, 403, 404),
}
EVERYONE = {role: row(200, 200, 200, 200) for role in ROLES}
NOT_A_METHOD = {role: row(405, 405, 405, 405) for role in ROLES} | {"anonymous": row(401, 401, 401, 401)}

# The intake (issue 3): the patient and their clinicians write it; a coordinator reads its status only.
EDIT_INTAKE = {
    **READ_PATIENT,
    "coordinator": row(403, 403, 403, 404),
}
# Submitting the fixtures' empty draft: allowed callers get the list of missing answers.
SUBMIT_EMPTY_INTAKE = {
    role: {target: 400 if status == 200 else status for target, status in by_target.items()}
    for role, by_target in EDIT_INTAKE.items()
}

# Starting an intake for a patient who has none yet.
START_INTAKE = {
    role: {target: 201 if status == 200 else status for target, status in by_target.items()}
    for role, by_target in EDIT_INTAKE.items()
}

# The course of care (issue 4). Evaluations and dose plans are clinical: the clinicians on the team read them.
READ_CLINICAL = {
    **READ_PATIENT,
    "coordinator": row(403, 403, 403, 404),
    "patient": row(403, 404, 404, 404),
    "other_patient": row(404, 404, 403, 404),
}
# Only the prescriber on the team writes and signs them; the therapist on the team is refused.
PRESCRIBER_WRITES = {
    **READ_CLINICAL,
    "therapist_a": row(403, 404, 404, 404),
    "therapist_b": row(404, 404, 403, 404),
}
# Sessions are scheduled by the therapist on the team or a coordinator; completed by the therapist only.
SCHEDULE_SESSION = {
    **READ_PATIENT,
    "prescriber": row(403, 404, 403, 404),
    "patient": row(403, 404, 404, 404),
    "other_patient": row(404, 404, 403, 404),
}
COMPLETE_SESSION = {**SCHEDULE_SESSION, "coordinator": row(403, 403, 403, 404)}
# Sessions (issue 5): changes (reschedule, cancel, no-show) are scheduling; the checklist is read by the patient
# and the clinicians and confirmed by the patient or the therapist; the dosing record is read by the clinicians
# and written by the therapist on the team only.
CHANGE_SESSION = SCHEDULE_SESSION
READ_CHECKLIST = {**READ_PATIENT, "coordinator": row(403, 403, 403, 404)}
CONFIRM_CHECKLIST = {**READ_CHECKLIST, "prescriber": row(403, 404, 403, 404)}
RECORD_DOSING = COMPLETE_SESSION
# Safety alerts: the clinicians on the team read them and each recipient acknowledges; the patient is not
# shown alerts about themself, a coordinator sees no clinical content (kapcare.access).
READ_ALERTS = READ_CLINICAL
# Issue 12: a coordinator opens the alerts escalated to them, so their role lists alerts (the ones escalated to
# them: none here); one not escalated to them stays 403 (READ_ALERTS), the rule named.
LIST_ALERTS_OF_PATIENT = {**READ_ALERTS, "coordinator": row(200, 200, 200, 404)}
# Side effects: the patient and the clinicians read them; the therapist on the team or the patient reports.
READ_SIDE_EFFECTS = {**READ_PATIENT, "coordinator": row(403, 403, 403, 404)}
REPORT_SIDE_EFFECT = {**READ_SIDE_EFFECTS, "prescriber": row(403, 404, 403, 404)}
# Questionnaires (issue 6): the patient answers for themself, the clinicians on the team read them and may
# enter answers on the patient's behalf; coordinators see no scores.
READ_QUESTIONNAIRES = {**READ_PATIENT, "coordinator": row(403, 403, 403, 404)}
# Messaging (issue 7). The care-team thread is the clinicians' (READ_CLINICAL: the patient gets 403 on their own,
# 404 elsewhere; coordinators see no clinical content); the patient's thread adds the patient. An urgent message
# is acknowledged by the clinicians it went to (the prescriber here: the therapist wrote it), so PRESCRIBER_WRITES.
READ_PATIENT_THREAD = {**READ_PATIENT, "coordinator": row(403, 403, 403, 404)}
# A notification is its recipient's alone: here the referring therapist's (therapist A's for A, B's for B).
OWN_NOTIFICATION = {role: row(404, 404, 404, 404) for role in ROLES} | {
    "therapist_a": row(200, 404, 404, 404),
    "therapist_b": row(404, 404, 200, 404),
    "anonymous": row(401, 401, 401, 401),
}

# Session documentation (issue 5). Progress notes and integration summaries are READ_CLINICAL; the therapist on
# the team writes them (the prescriber reads only). A psychotherapy note is its author's alone: `{id}` is one
# the referring therapist wrote, so only they read it (therapist A on A, B on B) and everybody else, whatever the
# role, gets 404: nobody learns it exists.
WRITE_SESSION_NOTE = {**READ_CLINICAL, "prescriber": row(403, 404, 403, 404)}
PSYCHOTHERAPY_NOTE_AUTHOR_ONLY = {role: row(404, 404, 404, 404) for role in ROLES} | {
    "therapist_a": row(200, 404, 404, 404),
    "therapist_b": row(404, 404, 200, 404),
    "anonymous": row(401, 401, 401, 401),
}


def allowed_as(expectations, status):
    """The same expectations with the allowed answer (200) replaced, e.g. 201 for a create."""
    return {
        role: {target: status if code == 200 else code for target, code in by_target.items()}
        for role, by_target in expectations.items()
    }


# Requests that concern no existing patient: expected status by role.
REFER = {
    "therapist_a": 201,
    "therapist_b": 201,
    "prescriber": 403,
    "coordinator": 403,
    "patient": 403,
    "other_patient": 403,
    "admin": 403,
    "anonymous": 401,
}
LIST = dict.fromkeys(ROLES, 200) | {"anonymous": 401}
LIST_CLINICAL = dict.fromkeys(ROLES, 403) | {
    "therapist_a": 200,
    "therapist_b": 200,
    "prescriber": 200,
    "anonymous": 401,
}

NEW_PHONE = "+1 415 555 0199"
REFERRAL = {
    "first_name": "Emery",
    "last_name": "Elm",
    "email": "emery.elm@example.test",
    "date_of_birth": "1990-02-03",
    "state": "CA",
}

# Reminders (issue 7): the care team and the medical group's coordinators read the delivery log; not the patient.
READ_REMINDERS = {
    **READ_PATIENT,
    "patient": row(403, 404, 404, 404),
    "other_patient": row(404, 404, 403, 404),
}

# Records that leave (issue 20): the patient exports their own record, the clinicians on the team theirs; a
# coordinator reads no clinical content, so exports none.
EXPORT_RECORD = {**READ_PATIENT, "coordinator": row(403, 403, 403, 404)}

# Issue 13. The identity change log is read by everyone who sees the patient. Referrals of known addresses wait in
# the medical group's reconciliation queue: its coordinators list, read and resolve them; to everyone else an entry
# does not exist (404), so nobody learns from it whose address it was. `{id}` is an entry about the target patient.
RECONCILE = {role: row(404, 404, 404, 404) for role in ROLES} | {
    "coordinator": row(200, 200, 200, 404),
    "anonymous": row(401, 401, 401, 401),
}
# Prescriptions (issue 21): the patient reads their own and records the medicine in hand, the clinicians on the
# team read them; only the prescriber on the team prescribes, cancels and attests PDMP checks (which only
# prescribers read); coordinators see no clinical detail.
READ_PRESCRIPTIONS = {**READ_PATIENT, "coordinator": row(403, 403, 403, 404)}
PDMP_ONLY_PRESCRIBER = {**PRESCRIBER_WRITES, "therapist_a": row(403, 404, 404, 404)}
LIST_PRESCRIBER = dict.fromkeys(ROLES, 403) | {"prescriber": 200, "anonymous": 401}
LOG_KEEPERS = LIST_PRESCRIBER | {"therapist_a": 200, "therapist_b": 200}

LIST_RECONCILIATIONS = dict.fromkeys(ROLES, 403) | {"coordinator": 200, "anonymous": 401}
# Issue 17. Applications to join the network are the medical group's coordinators' alone (they are not patient
# data: `{id}` here is no application, so a coordinator gets 404; tests/test_network_joining.py reads real ones
# across medical groups).
REVIEW_APPLICATIONS = dict.fromkeys(ROLES, 403) | {"coordinator": 200, "anonymous": 401}
INVITE_APPLICANT = REVIEW_APPLICATIONS | {"coordinator": 201}
NO_SUCH_APPLICATION = REVIEW_APPLICATIONS | {"coordinator": 404}
# Issue 18. Supervision cases: the medical group's prescribers (supervisors and supervised) and coordinators list
# theirs; `{id}` here is no case, so they get 404 (tests/test_supervision.py reads real ones); others 403.
LIST_SUPERVISION = dict.fromkeys(ROLES, 403) | {"prescriber": 200, "coordinator": 200, "anonymous": 401}
NO_SUCH_CASE = LIST_SUPERVISION | {"prescriber": 404, "coordinator": 404}
INVITATION = {"email": "matrix.applicant@example.test", "first_name": "Mat", "last_name": "Rix", "role": "therapist"}

# The network (issue 17): training and peer consultation, kind "network": expectations by role only, `{id}` a
# record of the network state `network_ids` builds (therapist A's completed KAP training, a group therapist A
# facilitates with the prescriber as member, a past meeting, and therapist A's presentation of patient A).
STAFF = dict.fromkeys(ROLES, 403) | dict.fromkeys(["therapist_a", "therapist_b", "prescriber", "coordinator"], 200)
STAFF |= {"anonymous": 401}
COORDINATOR_CREATES = dict.fromkeys(ROLES, 403) | {"coordinator": 201, "anonymous": 401}
CLINICIAN_ENROLS = dict.fromkeys(ROLES, 403) | {"therapist_a": 201, "therapist_b": 201, "prescriber": 201}
CLINICIAN_ENROLS |= {"anonymous": 401}
THERAPIST_A_AND_COORDINATOR = dict.fromkeys(ROLES, 404) | {"therapist_a": 200, "coordinator": 200, "anonymous": 401}
IN_THE_GROUP = THERAPIST_A_AND_COORDINATOR | {"prescriber": 200}
CASES = IN_THE_GROUP | {"coordinator": 403}
FACILITATOR_ONLY = IN_THE_GROUP | {"prescriber": 403, "coordinator": 403}
LIST_CASES = STAFF | {"coordinator": 403}
NETWORK_NOT_A_METHOD = dict.fromkeys(ROLES, 405) | {"anonymous": 401}

NETWORK_ROUTES = {
    "/api/v1/network/courses/": {
        "GET": (STAFF, None, "network"),
        "POST": (COORDINATOR_CREATES, {"title": "Music", "provider": "KI", "ce_hours": "2.00"}, "network"),
    },
    "/api/v1/network/courses/{id}/": {
        "GET": (STAFF, None, "network"),
        "DELETE": (NETWORK_NOT_A_METHOD, None, "network"),
    },
    "/api/v1/network/enrolments/": {
        "GET": (STAFF, None, "network"),
        "POST": (CLINICIAN_ENROLS, lambda user, ids: {"course": ids["elective"]}, "network"),
    },
    "/api/v1/network/enrolments/{id}/": {
        "GET": (THERAPIST_A_AND_COORDINATOR, None, "network"),
        "PATCH": (NETWORK_NOT_A_METHOD, {"certificate_number": "X"}, "network"),
    },
    # The completion is multipart (a file): a JSON body reaches the owner as 415, everyone else is stopped first.
    "/api/v1/network/enrolments/{id}/complete/": {
        "POST": (THERAPIST_A_AND_COORDINATOR | {"therapist_a": 415, "coordinator": 403}, {"x": 1}, "network")
    },
    "/api/v1/network/enrolments/{id}/verify/": {
        "POST": (THERAPIST_A_AND_COORDINATOR | {"therapist_a": 403}, None, "network")
    },
    "/api/v1/network/enrolments/{id}/certificate/": {"GET": (THERAPIST_A_AND_COORDINATOR, None, "network")},
    "/api/v1/network/transcripts/{id}/": {"GET": (THERAPIST_A_AND_COORDINATOR, None, "network")},
    "/api/v1/network/groups/": {
        "GET": (STAFF, None, "network"),
        "POST": (
            COORDINATOR_CREATES,
            lambda user, ids: {"name": "Peers", "facilitator": ids["therapist_b"], "members": [ids["therapist_a"]]},
            "network",
        ),
    },
    "/api/v1/network/groups/{id}/": {
        "GET": (IN_THE_GROUP, None, "network"),
        "DELETE": (NETWORK_NOT_A_METHOD, None, "network"),
    },
    "/api/v1/network/meetings/": {
        "GET": (STAFF, None, "network"),
        "POST": (
            FACILITATOR_ONLY
            | {"therapist_a": 201, "therapist_b": 404, "patient": 403, "other_patient": 403, "admin": 403},
            lambda user, ids: {
                "group": ids["group"],
                "starts_at": (timezone.now() + timedelta(days=7)).isoformat(),
                "time_zone": "America/Los_Angeles",
                "video_link": "https://video.example.test/peer",
                "ce_hours": "1.00",
            },
            "network",
        ),
    },
    "/api/v1/network/meetings/{id}/": {"GET": (IN_THE_GROUP, None, "network")},
    "/api/v1/network/meetings/{id}/ics/": {"GET": (IN_THE_GROUP, None, "network")},
    "/api/v1/network/meetings/{id}/attendance/": {
        "POST": (FACILITATOR_ONLY, lambda user, ids: {"attendees": [ids["prescriber"]]}, "network")
    },
    "/api/v1/network/presentations/": {
        "GET": (LIST_CASES, None, "network"),
        "POST": (
            dict.fromkeys(ROLES, 403) | {"therapist_a": 201, "prescriber": 201, "therapist_b": 404, "anonymous": 401},
            lambda user, ids: {
                "group": ids["group"],
                "patient": ids["patient_record"],
                "title": "Slow responder",
                "summary": "Partial response by week 4.",
            },
            "network",
        ),
    },
    "/api/v1/network/presentations/{id}/": {
        "GET": (CASES, None, "network"),
        "PATCH": (NETWORK_NOT_A_METHOD, {"title": "x"}, "network"),
    },
}


# Visits (issue 19): when they are is shown to everyone who sees the patient; the patient, the prescriber on the
# team and the group's coordinators book, move and cancel them (the therapist is refused). The fixtures publish
# no hours, so a booking or a move by an allowed caller is refused by the rule (409); `{id}` is a visit booked
# three days ahead, which an allowed caller cancels.
BOOK_VISIT = {
    **READ_PATIENT,
    "therapist_a": row(403, 404, 404, 404),
    "therapist_b": row(404, 404, 403, 404),
}

# A clinician's own availability (issue 19): each therapist and prescriber keeps their own weekly hours, dates and
# time off (the therapist's hours bound their sessions); nobody reads or removes another's (404), and the other
# roles keep none (403). Kind "schedule": `{id}` is a row of the cast's prescriber.
KEEP_HOURS = dict.fromkeys(ROLES, 403) | dict.fromkeys(["therapist_a", "therapist_b", "prescriber"], 200)
KEEP_HOURS |= {"anonymous": 401}
PRESCRIBERS_ROW = KEEP_HOURS | {"therapist_a": 404, "therapist_b": 404}


def _availability_routes(path, body):
    return {
        f"/api/v1/availability/{path}/": {
            "GET": (KEEP_HOURS, None, "none"),
            "POST": (KEEP_HOURS | {"therapist_a": 201, "therapist_b": 201, "prescriber": 201}, body, "none"),
        },
        f"/api/v1/availability/{path}/{{id}}/": {
            "GET": (PRESCRIBERS_ROW, None, "schedule"),
            "DELETE": (PRESCRIBERS_ROW | {"prescriber": 204}, None, "schedule"),
            "PATCH": (NETWORK_NOT_A_METHOD, {"note": "x"}, "schedule"),
        },
    }


AVAILABILITY_ROUTES = {
    **_availability_routes("weekly-hours", {"weekday": 6, "start_time": "09:00", "end_time": "10:00"}),
    **_availability_routes(
        "dates", lambda user: {"on": (timezone.localdate() + timedelta(days=12)).isoformat(), "note": "Off"}
    ),
    **_availability_routes(
        "time-off",
        lambda user: {
            "starts_at": (timezone.now() + timedelta(days=20)).isoformat(),
            "ends_at": (timezone.now() + timedelta(days=22)).isoformat(),
        },
    ),
}

# route -> method -> (expectations, request body, kind). kind "patient" expectations are by role
# and target; kind "none" by role only.
ROUTES = {
    "/api/v1/patients/": {
        "GET": (LIST, None, "none"),
        "POST": (REFER, REFERRAL, "none"),
    },
    "/api/v1/patients/{id}/": {
        "GET": (READ_PATIENT, None, "patient"),
        "PATCH": (CHANGE_PATIENT, {"phone": NEW_PHONE}, "patient"),
        "PUT": (NOT_A_METHOD, {"phone": NEW_PHONE}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/audit-events/?patient={id}": {
        "GET": (READ_ACCESS_HISTORY, None, "patient"),
    },
    "/api/v1/patients/{id}/fhir/": {
        "GET": (EXPORT_RECORD, None, "patient"),
        "POST": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/audit-events/?patient={id}&outcome=denied": {
        "GET": (READ_ACCESS_HISTORY, None, "patient"),
    },
    "/api/v1/patients/{id}/identity-changes/": {"GET": (READ_PATIENT, None, "patient")},
    "/api/v1/referral-reconciliations/": {"GET": (LIST_RECONCILIATIONS, None, "none")},
    "/api/v1/referral-reconciliations/{id}/": {
        "GET": (RECONCILE, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"status": "linked"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/referral-reconciliations/{id}/link/": {"POST": (RECONCILE, {"note": "Same DOB."}, "patient")},
    "/api/v1/referral-reconciliations/{id}/decline/": {"POST": (RECONCILE, {"note": "Not them."}, "patient")},
    "/api/v1/network/applications/": {
        "GET": (REVIEW_APPLICATIONS, None, "none"),
        "POST": (INVITE_APPLICANT, INVITATION, "none"),
    },
    "/api/v1/network/applications/{id}/": {"GET": (NO_SUCH_APPLICATION, None, "none")},
    "/api/v1/network/applications/{id}/checks/": {
        "POST": (NO_SUCH_APPLICATION, {"item": "npi", "outcome": "verified", "source": "NPPES"}, "none")
    },
    "/api/v1/network/applications/{id}/request-corrections/": {
        "POST": (NO_SUCH_APPLICATION, {"corrections": "Your NPI."}, "none")
    },
    "/api/v1/network/applications/{id}/approve/": {"POST": (NO_SUCH_APPLICATION, {}, "none")},
    "/api/v1/network/applications/{id}/decline/": {"POST": (NO_SUCH_APPLICATION, {}, "none")},
    "/api/v1/network/supervision/cases/": {"GET": (LIST_SUPERVISION, None, "none")},
    "/api/v1/network/supervision/cases/{id}/": {"GET": (NO_SUCH_CASE, None, "none")},
    "/api/v1/network/supervision/cases/{id}/review/": {
        "POST": (NO_SUCH_CASE, {"verdict": "agree", "comment": ""}, "none")
    },
    "/api/v1/network/supervision/cases/{id}/acknowledge/": {"POST": (NO_SUCH_CASE, {}, "none")},
    "/api/v1/network/supervision/cases/{id}/context/": {"GET": (NO_SUCH_CASE, None, "none")},
    "/api/v1/network/supervision/cases/{id}/comment/": {"POST": (NO_SUCH_CASE, {"body": "Tuesday?"}, "none")},
    # Intakes (issue 3): `{id}` of a detail route is the target patient's draft intake (RECORD_IDS).
    "/api/v1/intakes/": {
        "GET": (LIST, None, "none"),
        "POST": (START_INTAKE, lambda user, patient: {"patient": str(patient.pk)}, "patient"),
    },
    "/api/v1/intakes/?patient={id}": {"GET": (READ_PATIENT, None, "patient")},
    "/api/v1/intakes/{id}/": {
        "GET": (READ_PATIENT, None, "patient"),
        "PATCH": (EDIT_INTAKE, {"allergies": "Penicillin"}, "patient"),
        "PUT": (NOT_A_METHOD, {"allergies": "Penicillin"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/intakes/{id}/submit/": {"POST": (SUBMIT_EMPTY_INTAKE, None, "patient")},
    "/api/schema/": {"GET": (EVERYONE, None, "public")},
    "/api/docs/": {"GET": (EVERYONE, None, "public")},
    # Consents (issue 3): documents are not patient data; only the patient signs, with their own name.
    "/api/v1/consent-documents/": {"GET": (LIST, None, "none")},
    "/api/v1/consent-signatures/": {
        "GET": (LIST, None, "none"),
        "POST": (
            dict.fromkeys(ROLES, 403) | {"patient": 201, "other_patient": 201, "anonymous": 401},
            lambda user: consent_signature_body(user),
            "none",
        ),
    },
    "/api/v1/consent-signatures/?patient={id}": {"GET": (READ_PATIENT, None, "patient")},
    # The course of care (issue 4). A body given as a function of (user, patient) names the target patient.
    "/api/v1/evaluations/": {
        "GET": (LIST_CLINICAL, None, "none"),
        "POST": (
            allowed_as(PRESCRIBER_WRITES, 201),
            lambda user, patient: {"patient": str(patient.pk), "decision": "deferred"},
            "patient",
        ),
    },
    "/api/v1/evaluations/?patient={id}": {"GET": (READ_CLINICAL, None, "patient")},
    "/api/v1/evaluations/{id}/": {
        "GET": (READ_CLINICAL, None, "patient"),
        "PATCH": (PRESCRIBER_WRITES, {"rationale": "Reviewed with the patient."}, "patient"),
        "PUT": (NOT_A_METHOD, {"rationale": "x"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    # Signing the fixtures' empty draft: allowed callers get the list of what is missing.
    "/api/v1/evaluations/{id}/sign/": {"POST": (allowed_as(PRESCRIBER_WRITES, 400), None, "patient")},
    "/api/v1/evaluations/{id}/addenda/": {
        "GET": (READ_CLINICAL, None, "patient"),
        # An addendum to a draft is refused by the rule (409): addenda are for signed evaluations.
        "POST": (allowed_as(PRESCRIBER_WRITES, 409), {"text": "Blood pressure rechecked: 128/80."}, "patient"),
    },
    "/api/v1/courses/": {"GET": (LIST | {"admin": 403}, None, "none")},
    "/api/v1/courses/?patient={id}": {"GET": (READ_PATIENT, None, "patient")},
    "/api/v1/courses/{id}/": {"GET": (READ_PATIENT, None, "patient")},
    "/api/v1/dose-plans/": {
        "GET": (LIST_CLINICAL, None, "none"),
        "POST": (allowed_as(PRESCRIBER_WRITES, 201), lambda user, patient: dose_plan_body(patient), "patient"),
    },
    "/api/v1/dose-plans/?patient={id}": {"GET": (READ_CLINICAL, None, "patient")},
    "/api/v1/dose-plans/{id}/": {
        "GET": (READ_CLINICAL, None, "patient"),
        "PATCH": (PRESCRIBER_WRITES, {"instructions_therapist": "Check BP at 40 minutes."}, "patient"),
        "PUT": (NOT_A_METHOD, {"route": "troche"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    # Signing needs a signed eligible evaluation, which the fixtures' patients do not have: 409 naming the gate.
    "/api/v1/dose-plans/{id}/sign/": {"POST": (allowed_as(PRESCRIBER_WRITES, 409), None, "patient")},
    "/api/v1/sessions/": {
        "GET": (LIST | {"admin": 403}, None, "none"),
        "POST": (
            allowed_as(SCHEDULE_SESSION, 201),
            lambda user, patient: {
                "patient": str(patient.pk),
                "kind": "preparation",
                "scheduled_at": (timezone.now() + timedelta(days=7)).isoformat(),
            },
            "patient",
        ),
    },
    "/api/v1/sessions/?patient={id}": {"GET": (READ_PATIENT, None, "patient")},
    "/api/v1/sessions/{id}/": {
        "GET": (READ_PATIENT, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"kind": "dosing"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/sessions/{id}/complete/": {"POST": (COMPLETE_SESSION, None, "patient")},
    # `{id}` of these is a session of the target patient: a past preparation session for the changes, a remote
    # dosing session that started an hour ago for the rest. The fixtures' patients fail the dosing gates, so an
    # allowed caller marking the dose taken gets 409 naming the gate; boosters and the end need the dose (409).
    "/api/v1/sessions/{id}/cancel/": {"POST": (CHANGE_SESSION, {"reason": "The patient is unwell."}, "patient")},
    "/api/v1/sessions/{id}/reschedule/": {
        "POST": (
            CHANGE_SESSION,
            lambda user, patient: {
                "scheduled_at": (timezone.now() + timedelta(days=5)).isoformat(),
                "reason": "The patient asked for another day.",
            },
            "patient",
        )
    },
    "/api/v1/sessions/{id}/no-show/": {"POST": (CHANGE_SESSION, {"reason": "No answer by phone."}, "patient")},
    "/api/v1/sessions/{id}/checklist/": {
        "GET": (READ_CHECKLIST, None, "patient"),
        "POST": (allowed_as(CONFIRM_CHECKLIST, 201), {"items": ["fasting"]}, "patient"),
    },
    "/api/v1/sessions/{id}/dosing-record/": {"GET": (READ_CLINICAL, None, "patient")},
    "/api/v1/sessions/{id}/vitals/": {
        "POST": (
            allowed_as(RECORD_DOSING, 201),
            {"phase": "pre_dose", "systolic": 122, "diastolic": 78, "pulse": 70, "taken_by": "patient"},
            "patient",
        )
    },
    "/api/v1/sessions/{id}/dose/": {"POST": (allowed_as(RECORD_DOSING, 409), {"dose_mg": "100"}, "patient")},
    "/api/v1/sessions/{id}/boosters/": {"POST": (allowed_as(RECORD_DOSING, 409), {"dose_mg": "50"}, "patient")},
    "/api/v1/sessions/{id}/check-ins/": {"POST": (allowed_as(RECORD_DOSING, 201), {"remark": "Resting."}, "patient")},
    "/api/v1/sessions/{id}/end/": {
        "POST": (
            allowed_as(RECORD_DOSING, 409),
            {"alert_and_oriented": True, "vitals_near_baseline": True, "safe_transport": True},
            "patient",
        )
    },
    # Follow-up visits (issue 4, point 4): the clinicians read them; only the prescriber on the team writes and
    # signs. Starting one needs a signed eligible evaluation, which the fixtures' patients lack: 409 naming it.
    "/api/v1/follow-ups/": {
        "GET": (LIST_CLINICAL, None, "none"),
        "POST": (allowed_as(PRESCRIBER_WRITES, 409), lambda user, patient: {"patient": str(patient.pk)}, "patient"),
    },
    "/api/v1/follow-ups/?patient={id}": {"GET": (READ_CLINICAL, None, "patient")},
    "/api/v1/follow-ups/{id}/": {
        "GET": (READ_CLINICAL, None, "patient"),
        "PATCH": (PRESCRIBER_WRITES, {"symptoms": "Sleeping better; PHQ-9 down."}, "patient"),
        "PUT": (NOT_A_METHOD, {"symptoms": "x"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    # Signing the fixtures' empty draft: allowed callers get the list of what is missing.
    "/api/v1/follow-ups/{id}/sign/": {"POST": (allowed_as(PRESCRIBER_WRITES, 400), None, "patient")},
    # Session notes (issue 5, point 4). POST names a session of the target (made by RECORD_IDS); `{id}` is an
    # empty draft note by the referring therapist, so signing it gives allowed callers 400 naming what is missing.
    "/api/v1/session-notes/": {
        "GET": (LIST_CLINICAL, None, "none"),
        "POST": (
            allowed_as(WRITE_SESSION_NOTE, 201),
            lambda user, patient: {"session": latest_session_id(patient), "body": "Calm, grounded session."},
            "patient",
        ),
    },
    "/api/v1/session-notes/?patient={id}": {"GET": (READ_CLINICAL, None, "patient")},
    "/api/v1/session-notes/{id}/": {
        "GET": (READ_CLINICAL, None, "patient"),
        "PATCH": (WRITE_SESSION_NOTE, {"body": "Calm, grounded session."}, "patient"),
        "PUT": (NOT_A_METHOD, {"body": "x"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/session-notes/{id}/sign/": {"POST": (allowed_as(WRITE_SESSION_NOTE, 400), None, "patient")},
    "/api/v1/session-notes/{id}/addenda/": {
        "GET": (READ_CLINICAL, None, "patient"),
        # An addendum to a draft is refused by the rule (409): addenda are for signed notes.
        "POST": (allowed_as(WRITE_SESSION_NOTE, 409), {"body": "Called the next day: slept well."}, "patient"),
    },
    # Psychotherapy notes: the list is each therapist's own (other roles 403); a note is its author's alone.
    "/api/v1/psychotherapy-notes/": {
        "GET": (LIST_CLINICAL | {"prescriber": 403}, None, "none"),
        "POST": (
            allowed_as(WRITE_SESSION_NOTE, 201),
            lambda user, patient: {"session": latest_session_id(patient), "body": "Private process note."},
            "patient",
        ),
    },
    "/api/v1/psychotherapy-notes/?patient={id}": {"GET": (WRITE_SESSION_NOTE, None, "patient")},
    "/api/v1/psychotherapy-notes/{id}/": {
        "GET": (PSYCHOTHERAPY_NOTE_AUTHOR_ONLY, None, "patient"),
        "PATCH": (PSYCHOTHERAPY_NOTE_AUTHOR_ONLY, {"body": "Rewritten by its author."}, "patient"),
        "PUT": (NOT_A_METHOD, {"body": "x"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    # Integration summaries (issue 5, point 5): POST names an integration session of the target (RECORD_IDS).
    "/api/v1/integration-summaries/": {
        "GET": (LIST_CLINICAL, None, "none"),
        "POST": (
            allowed_as(WRITE_SESSION_NOTE, 201),
            lambda user, patient: {"session": latest_session_id(patient), "themes": "Grief; self-compassion."},
            "patient",
        ),
    },
    "/api/v1/integration-summaries/?patient={id}": {"GET": (READ_CLINICAL, None, "patient")},
    "/api/v1/integration-summaries/{id}/": {
        "GET": (READ_CLINICAL, None, "patient"),
        "PATCH": (WRITE_SESSION_NOTE, {"insights": "Sees the depression as protective."}, "patient"),
        "PUT": (NOT_A_METHOD, {"themes": "x"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    # `{id}` is a draft summary without the concerns for the prescriber: signing it gives allowed callers 400
    # naming them; an addendum to a draft is refused by the rule (409).
    "/api/v1/integration-summaries/{id}/sign/": {"POST": (allowed_as(WRITE_SESSION_NOTE, 400), None, "patient")},
    "/api/v1/integration-summaries/{id}/addenda/": {
        "GET": (READ_CLINICAL, None, "patient"),
        "POST": (allowed_as(WRITE_SESSION_NOTE, 409), {"body": "The sister called: sleeping better."}, "patient"),
    },
    # Safety alerts and side effects (issue 4, point 5). `{id}` of an alert route is an alert about the target.
    "/api/v1/alerts/": {"GET": (LIST_CLINICAL | {"coordinator": 200}, None, "none")},
    "/api/v1/alerts/?patient={id}": {"GET": (LIST_ALERTS_OF_PATIENT, None, "patient")},
    "/api/v1/alerts/{id}/": {
        "GET": (READ_ALERTS, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"reason": "x"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/alerts/{id}/acknowledge/": {"POST": (READ_ALERTS, {"note": "Called the patient; safe."}, "patient")},
    "/api/v1/adverse-events/": {
        "GET": (LIST | {"coordinator": 403, "admin": 403}, None, "none"),
        "POST": (
            allowed_as(REPORT_SIDE_EFFECT, 201),
            lambda user, patient: {"patient": str(patient.pk), "kind": "nausea", "severity": "mild"},
            "patient",
        ),
    },
    "/api/v1/assessments/": {
        "GET": (LIST | {"coordinator": 403, "admin": 403}, None, "none"),
        "POST": (
            allowed_as(READ_QUESTIONNAIRES, 201),
            lambda user, patient: {"patient": str(patient.pk), "instrument": "gad7", "answers": [1] * 7},
            "patient",
        ),
    },
    "/api/v1/assessments/?patient={id}": {"GET": (READ_QUESTIONNAIRES, None, "patient")},
    "/api/v1/assessments/{id}/": {
        "GET": (READ_QUESTIONNAIRES, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"answers": [0] * 7}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/adverse-events/?patient={id}": {"GET": (READ_SIDE_EFFECTS, None, "patient")},
    "/api/v1/adverse-events/{id}/": {
        "GET": (READ_SIDE_EFFECTS, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"severity": "severe"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    # Messages (issue 7): `{id}` is a care-team message the referring therapist wrote about the target.
    "/api/v1/messages/": {
        "GET": (LIST_CLINICAL, None, "none"),
        "POST": (
            allowed_as(READ_CLINICAL, 201),
            lambda user, patient: {"patient": str(patient.pk), "body": "How did the session go?"},
            "patient",
        ),
    },
    "/api/v1/messages/?patient={id}": {"GET": (READ_CLINICAL, None, "patient")},
    "/api/v1/messages/?thread=patient&patient={id}": {"GET": (READ_PATIENT_THREAD, None, "patient")},
    "/api/v1/messages/?thread=patient": {
        "POST": (
            allowed_as(READ_PATIENT_THREAD, 201),
            lambda user, patient: {"patient": str(patient.pk), "body": "See you Thursday.", "thread": "patient"},
            "patient",
        ),
    },
    "/api/v1/messages/{id}/": {
        "GET": (READ_CLINICAL, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"body": "x"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/messages/{id}/acknowledge/": {"POST": (PRESCRIBER_WRITES, None, "patient")},
    "/api/v1/notifications/": {"GET": (LIST, None, "none")},
    "/api/v1/notifications/{id}/read/": {"POST": (OWN_NOTIFICATION, None, "patient")},
    "/api/v1/visits/": {
        "GET": (LIST | {"admin": 403}, None, "none"),
        "POST": (
            allowed_as(BOOK_VISIT, 409),
            lambda user, patient: {
                "patient": str(patient.pk),
                "kind": "follow_up",
                "starts_at": (timezone.now() + timedelta(days=3)).isoformat(),
            },
            "patient",
        ),
    },
    "/api/v1/visits/?patient={id}": {"GET": (READ_PATIENT, None, "patient")},
    "/api/v1/visits/{id}/": {
        "GET": (READ_PATIENT, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"starts_at": "2030-01-01T10:00:00Z"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/visits/{id}/cancel/": {"POST": (BOOK_VISIT, {"reason": "Feeling better."}, "patient")},
    "/api/v1/visits/{id}/reschedule/": {
        "POST": (
            allowed_as(BOOK_VISIT, 409),
            lambda user, patient: {"starts_at": (timezone.now() + timedelta(days=4)).isoformat()},
            "patient",
        )
    },
    "/api/v1/prescriptions/": {
        "GET": (LIST | {"coordinator": 403, "admin": 403}, None, "none"),
        "POST": (
            allowed_as(PRESCRIBER_WRITES, 409),  # no signed dose plan yet: the rule refuses
            lambda user, patient: {
                "patient": str(patient.pk),
                "directions": "One tablet under the tongue.",
                "quantity": "3",
                "refills": 0,
                "days_supply": 30,
                "pharmacy_name": "Bay Compounding",
                "pharmacy_address": "12 Market St",
                "pharmacy_phone": "+1 415 555 0100",
                "pharmacy_ncpdp_id": "0512345",
                "channel": "printed",
            },
            "patient",
        ),
    },
    "/api/v1/prescriptions/?patient={id}": {"GET": (READ_PRESCRIPTIONS, None, "patient")},
    "/api/v1/prescriptions/{id}/": {
        "GET": (READ_PRESCRIPTIONS, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"refills": 5}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/prescriptions/{id}/pdf/": {"GET": (READ_PRESCRIPTIONS, None, "patient")},
    "/api/v1/prescriptions/{id}/cancel/": {"POST": (PRESCRIBER_WRITES, {"reason": "Dose changed."}, "patient")},
    "/api/v1/prescriptions/{id}/fills/": {
        "POST": (
            allowed_as(READ_PRESCRIPTIONS, 201),
            lambda user, patient: {"filled_on": timezone.localdate().isoformat(), "method": "pickup"},
            "patient",
        )
    },
    "/api/v1/pdmp-checks/": {
        "GET": (LIST_PRESCRIBER, None, "none"),
        "POST": (
            allowed_as(PDMP_ONLY_PRESCRIBER, 201),
            lambda user, patient: {
                "patient": str(patient.pk),
                "checked_on": timezone.localdate().isoformat(),
                "state": "CA",
                "result": "no_concerns",
            },
            "patient",
        ),
    },
    "/api/v1/pdmp-checks/?patient={id}": {"GET": (PDMP_ONLY_PRESCRIBER, None, "patient")},
    "/api/v1/pdmp-checks/{id}/": {
        "GET": (PDMP_ONLY_PRESCRIBER, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"note": "x"}, "patient"),
    },
    "/api/v1/medicine-counts/": {
        "GET": (LIST | {"coordinator": 403, "admin": 403}, None, "none"),
        "POST": (
            allowed_as(READ_PRESCRIPTIONS, 201),
            lambda user, patient: {"patient": str(patient.pk), "remaining": "0"},
            "patient",
        ),
    },
    "/api/v1/medicine-counts/?patient={id}": {"GET": (READ_PRESCRIPTIONS, None, "patient")},
    "/api/v1/medicine-counts/{id}/": {
        "GET": (READ_PRESCRIPTIONS, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"remaining": "3"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    # The controlled-substance log (issue 21, point 4) belongs to a site, not a patient: the medical group's
    # prescribers and the clinicians working at the site keep it (a therapist working at none lists no site, and
    # a site whose log they do not keep is 404); patients, coordinators and administrators never read it (403).
    "/api/v1/stock-log/": {
        "GET": (LOG_KEEPERS, None, "none"),
        "POST": (
            LOG_KEEPERS | {"prescriber": 201, "therapist_a": 404, "therapist_b": 404},
            lambda user: stock_receipt_body(user),
            "none",
        ),
    },
    "/api/v1/visit-slots/?patient={id}": {"GET": (BOOK_VISIT, None, "patient")},
    # Reminders (issue 7): the delivery log, read-only, for the care team and the group's coordinators; the
    # patient is refused (403) and outsiders get 404. `{id}` is a reminder about the target patient.
    "/api/v1/reminders/": {"GET": (LIST_CLINICAL | {"coordinator": 200}, None, "none")},
    # Outcomes (issue 18): figures over the patients one may see, for the clinicians and the group's coordinators;
    # the de-identified research export is the coordinators'. The world's few patients are under the 11 an export
    # needs, so an allowed request is refused by that rule (409).
    "/api/v1/outcomes/": {"GET": (LIST_CLINICAL | {"coordinator": 200}, None, "none")},
    "/api/v1/research-exports/": {
        "POST": (dict.fromkeys(ROLES, 403) | {"coordinator": 409, "anonymous": 401}, None, "none"),
    },
    "/api/v1/reminders/?patient={id}": {"GET": (READ_REMINDERS, None, "patient")},
    "/api/v1/reminders/{id}/": {
        "GET": (READ_REMINDERS, None, "patient"),
        "PATCH": (NOT_A_METHOD, {"status": "sent"}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    **NETWORK_ROUTES,
    **AVAILABILITY_ROUTES,
}

# One case per route, method and role; it asks about each target patient in turn (they are independent:
# each request is about its own patient), so the cast is built once for the four.
PATIENT_CASES = [
    pytest.param(route, method, role, id=f"{method} {route} {role}")
    for route, methods in ROUTES.items()
    for method, (_expected, _body, kind) in methods.items()
    if kind == "patient"
    for role in ROLES
]
ROLE_CASES = [
    pytest.param(route, method, role, id=f"{method} {route} {role}")
    for route, methods in ROUTES.items()
    for method, (_expected, _body, kind) in methods.items()
    if kind in ("none", "public")
    for role in ROLES
]


@dataclass
class World:
    cast: dict
    targets: dict
    sessions_made_at: object
    session_keys: dict  # {role: the key of a session signed in as that role}
    route_records: dict = field(default_factory=dict)  # route_records' state: route, savepoint, ids


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with kept_for_the_module(django_db_blocker):
        cast, targets = make_world()
        made_at = next_clinic_hour()
        with time_machine.travel(made_at, tick=False):  # the clinic hour each test starts at (fixtures.py)
            keys = {role: _session_key(user) for role, user in cast.items() if user.is_authenticated}
        yield World(cast, targets, made_at, keys)


def _session_key(user):
    client = Client()
    client.force_login(user)
    return client.session.session_key


@pytest.fixture
def cast(world, db):
    return world.cast


@pytest.fixture
def targets(world, db):
    return world.targets


@pytest.fixture
def sign_in(world):
    """`sign_in(client, role)`: the client in the role's session of the module (a request of a case may write to it;
    the case's rollback undoes that), or with no session for the anonymous role. Signing in afresh for each case
    (about 20 queries) was a tenth of the module's time."""

    def sign_in(client, role):
        client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
        user = world.cast[role]
        if not user.is_authenticated:
            return client
        if abs(timezone.now() - world.sessions_made_at) < timedelta(minutes=5):
            client.cookies[settings.SESSION_COOKIE_NAME] = world.session_keys[role]
        else:  # the run crossed the clinic hour (21:00 UTC) since the module began: the module's sessions are a day old
            client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def route_records(request, world, django_db_blocker):
    """{target: id} of the records the case's patient route acts on, made when the cases of that route begin and
    kept, in a savepoint of the module's transaction, until another route's cases begin (each case's own writes
    roll back with the case). Requested before `db` (first in a test's arguments), so outside the case's transaction."""
    route = request.node.callspec.params["route"]
    held = world.route_records
    if held.get("route") != route:
        with django_db_blocker.unblock():
            if "savepoint" in held:
                transaction.savepoint_rollback(held["savepoint"])  # the previous route's records
            else:
                held["savepoint"] = transaction.savepoint()
            held.pop("route", None)  # until this route's records are all made
            held["ids"] = {target: record_id(route, patient) for target, patient in world.targets.items()}
            held["route"] = route
    return held["ids"]


def resolve_body(body, user, patient=None):
    if callable(body):  # a body that depends on the caller, the target patient or rows made by the fixtures
        return body(user) if patient is None else body(user, patient)
    return body


def send(client, user, method, path, body, patient=None):
    body = resolve_body(body, user, patient)
    return getattr(client, method.lower())(path, data=body, format="json")


def consent_signature_body(user):
    """The current informed consent, signed with the caller's own name when the caller is a patient."""
    from patients.models import ConsentDocument

    document = ConsentDocument.objects.current().get(kind="kap_informed_consent")
    record = getattr(user, "patient_record", None) if user.is_authenticated else None
    return {"document": document.pk, "typed_name": record.full_name if record else "Someone Else"}


def draft_intake_id(patient):
    """The patient's draft intake, started by the referring therapist as the services would."""
    from assessments import services as assessment_services

    return assessment_services.intake_save_draft(actor=patient.referred_by, patient=patient, data={}).pk


# Routes whose `{id}` names a record of the target patient rather than the patient.
def dose_plan_body(patient=None):
    body = {
        "route": "sublingual_rdt",
        "tablet_strength_mg": "100.0",
        "full_dose_mg": "200.0",
        "start_at": "half",
        "doses_authorized": 3,
        "instructions_patient": "Hold the tablets under the tongue; spit after 10 minutes.",
    }
    return {"patient": str(patient.pk), **body} if patient is not None else body


def _prescriber():
    from kapcare.accounts.models import User

    return User.objects.filter(role=User.Role.PRESCRIBER).order_by("email").first()


def draft_evaluation_id(patient):
    """A draft evaluation of the patient (patients without a prescriber get one by the cast's prescriber)."""
    from assessments.models import Evaluation

    return Evaluation.objects.create(patient=patient, prescriber=_prescriber()).pk


def course_id(patient):
    from treatment.course import services as course_services

    return course_services.course_current(actor=None, patient=patient).pk


def draft_dose_plan_id(patient):
    from treatment.models import DosePlan, TreatmentCourse

    course = TreatmentCourse.objects.get(pk=course_id(patient))
    return DosePlan.objects.create(
        course=course, patient=patient, version=1, prescriber=_prescriber(), **dose_plan_body()
    ).pk


def past_session_id(patient, kind="preparation"):
    """A preparation (or `kind`) session that started an hour ago, scheduled as the referring therapist would."""
    from datetime import timedelta

    from django.utils import timezone

    from treatment.models import TherapySession, TreatmentCourse

    return TherapySession.objects.create(
        course=TreatmentCourse.objects.get(pk=course_id(patient)),
        patient=patient,
        kind=kind,
        scheduled_at=timezone.now() - timedelta(hours=1),
        created_by=patient.referred_by,
    ).pk


def dosing_session_id(patient):
    """A remote dosing session that started an hour ago (booked directly: the fixtures' patients fail the gates)."""
    from datetime import timedelta

    from django.utils import timezone

    from treatment.models import TherapySession, TreatmentCourse

    return TherapySession.objects.create(
        course=TreatmentCourse.objects.get(pk=course_id(patient)),
        patient=patient,
        kind=TherapySession.Kind.DOSING,
        modality=TherapySession.Modality.REMOTE,
        video_link="https://video.example.test/room/1",
        scheduled_at=timezone.now() - timedelta(hours=1),
        created_by=patient.referred_by,
    ).pk


def alert_id(patient):
    """A safety alert about the patient, raised as a rule would raise it (to the team on record now)."""
    from patients import services as patient_services

    return patient_services.safety_alert_raise(
        patient=patient, kind="phq9_item9", reason="PHQ-9 item 9 answered 1.", source=patient
    ).pk


def adverse_event_id(patient):
    """A mild side effect reported by the referring therapist."""
    from treatment.models import AdverseEvent, TreatmentCourse

    return AdverseEvent.objects.create(
        course=TreatmentCourse.objects.get(pk=course_id(patient)),
        patient=patient,
        reported_by=patient.referred_by,
        kind=AdverseEvent.Kind.NAUSEA,
        severity=AdverseEvent.Severity.MILD,
    ).pk


def questionnaire_response_id(patient):
    """A GAD-7 the patient answered (or their referring therapist entered for them)."""
    from assessments.models import QuestionnaireResponse

    return QuestionnaireResponse.objects.create(
        patient=patient,
        instrument="gad7",
        answers=[1] * 7,
        total_score=7,
        severity="mild",
        entered_by=patient.user or patient.referred_by,
    ).pk


def pending_follow_up_id(patient):
    """The course's next follow-up visit, due today, not yet written."""
    from django.utils import timezone

    from treatment.models import FollowUp, TreatmentCourse

    course = TreatmentCourse.objects.get(pk=course_id(patient))
    return FollowUp.objects.create(course=course, patient=patient, due_on=timezone.localdate()).pk


RECORD_IDS = {
    "/api/v1/intakes/{id}/": draft_intake_id,
    "/api/v1/intakes/{id}/submit/": draft_intake_id,
    "/api/v1/evaluations/{id}/": draft_evaluation_id,
    "/api/v1/evaluations/{id}/sign/": draft_evaluation_id,
    "/api/v1/evaluations/{id}/addenda/": draft_evaluation_id,
    "/api/v1/courses/{id}/": course_id,
    "/api/v1/dose-plans/{id}/": draft_dose_plan_id,
    "/api/v1/dose-plans/{id}/sign/": draft_dose_plan_id,
    "/api/v1/sessions/{id}/": past_session_id,
    "/api/v1/sessions/{id}/complete/": past_session_id,
    "/api/v1/sessions/{id}/cancel/": past_session_id,
    "/api/v1/sessions/{id}/reschedule/": past_session_id,
    "/api/v1/sessions/{id}/no-show/": past_session_id,
    "/api/v1/sessions/{id}/checklist/": dosing_session_id,
    "/api/v1/sessions/{id}/dosing-record/": dosing_session_id,
    "/api/v1/sessions/{id}/vitals/": dosing_session_id,
    "/api/v1/sessions/{id}/dose/": dosing_session_id,
    "/api/v1/sessions/{id}/boosters/": dosing_session_id,
    "/api/v1/sessions/{id}/check-ins/": dosing_session_id,
    "/api/v1/sessions/{id}/end/": dosing_session_id,
    "/api/v1/follow-ups/{id}/": pending_follow_up_id,
    "/api/v1/follow-ups/{id}/sign/": pending_follow_up_id,
    "/api/v1/session-notes/": past_session_id,  # the session a POST writes the note of
    "/api/v1/session-notes/{id}/": lambda patient: draft_session_note_id(patient),
    "/api/v1/session-notes/{id}/sign/": lambda patient: draft_session_note_id(patient),
    "/api/v1/session-notes/{id}/addenda/": lambda patient: draft_session_note_id(patient),
    "/api/v1/psychotherapy-notes/": past_session_id,
    "/api/v1/psychotherapy-notes/{id}/": lambda patient: psychotherapy_note_id(patient),
    "/api/v1/integration-summaries/": lambda patient: past_session_id(patient, kind="integration"),
    "/api/v1/integration-summaries/{id}/": lambda patient: integration_summary_id(patient),
    "/api/v1/integration-summaries/{id}/sign/": lambda patient: integration_summary_id(patient),
    "/api/v1/integration-summaries/{id}/addenda/": lambda patient: integration_summary_id(patient),
    "/api/v1/alerts/{id}/": alert_id,
    "/api/v1/alerts/{id}/acknowledge/": alert_id,
    "/api/v1/adverse-events/{id}/": adverse_event_id,
    "/api/v1/assessments/{id}/": questionnaire_response_id,
    "/api/v1/messages/{id}/": lambda patient: care_team_message_id(patient),
    "/api/v1/messages/{id}/acknowledge/": lambda patient: care_team_message_id(patient, urgent=True),
    "/api/v1/notifications/{id}/read/": lambda patient: notification_id(patient),
    "/api/v1/reminders/{id}/": lambda patient: reminder_id(patient),
    "/api/v1/visits/{id}/": lambda patient: visit_id(patient),
    "/api/v1/prescriptions/{id}/": lambda patient: prescription_id(patient),
    "/api/v1/prescriptions/{id}/pdf/": lambda patient: prescription_id(patient),
    "/api/v1/prescriptions/{id}/cancel/": lambda patient: prescription_id(patient),
    "/api/v1/prescriptions/{id}/fills/": lambda patient: prescription_id(patient),
    "/api/v1/pdmp-checks/{id}/": lambda patient: pdmp_check_id(patient),
    "/api/v1/medicine-counts/{id}/": lambda patient: medicine_count_id(patient),
    "/api/v1/visits/{id}/cancel/": lambda patient: visit_id(patient),
    "/api/v1/visits/{id}/reschedule/": lambda patient: visit_id(patient),
    "/api/v1/referral-reconciliations/{id}/": lambda patient: reconciliation_id(patient),
    "/api/v1/referral-reconciliations/{id}/link/": lambda patient: reconciliation_id(patient),
    "/api/v1/referral-reconciliations/{id}/decline/": lambda patient: reconciliation_id(patient),
}


def medicine_count_id(patient):
    from treatment.models import MedicineCount

    return MedicineCount.objects.create(
        patient=patient, source="clinician", remaining=3, expected=3, recorded_by=patient.referred_by
    ).pk


def stock_receipt_body(user):
    """A receipt at a site of the cast's medical group (the prescriber's)."""
    from kapcare.accounts.models import Organization
    from treatment.models import StockSite

    group = Organization.objects.filter(kind="medical_group").order_by("name").first()
    if user.is_authenticated and user.role == "prescriber":
        group = user.organization
    site, _ = StockSite.objects.get_or_create(medical_group=group, name="Office", defaults={"address": "1 Main St"})
    return {"site": str(site.pk), "kind": "receipt", "lot": "L1", "expires_on": "2099-01-01", "quantity_mg": "100"}


def pdmp_check_id(patient):
    from treatment.models import PDMPCheck

    return PDMPCheck.objects.create(
        patient=patient, prescriber=_prescriber(), checked_on=timezone.localdate(), state="CA", result="no_concerns"
    ).pk


def prescription_id(patient):
    """A printed prescription of 3 tablets, refills 2, on a dose plan of the patient, by the cast's prescriber."""
    from kapcare.accounts.models import DEARegistration
    from treatment.models import DosePlan, PDMPCheck, Prescription

    prescriber = _prescriber()
    return Prescription.objects.create(
        patient=patient,
        course_id=course_id(patient),
        dose_plan=DosePlan.objects.get(pk=draft_dose_plan_id(patient)),
        prescriber=prescriber,
        dea_registration=DEARegistration.objects.filter(clinician=prescriber).first(),
        pdmp_check=PDMPCheck.objects.get(pk=pdmp_check_id(patient)),
        formulation="sublingual_rdt",
        strength_mg=100,
        directions="One tablet under the tongue.",
        quantity=3,
        quantity_derived=3,
        refills=2,
        days_supply=30,
        pharmacy_name="Bay Compounding",
        pharmacy_address="12 Market St",
        pharmacy_phone="+1 415 555 0100",
        pharmacy_ncpdp_id="0512345",
        issued_on=timezone.localdate(),
        channel="printed",
        evaluation_encounter="telemedicine",
        content_hash="0" * 64,
    ).pk


def visit_id(patient):
    """A follow-up visit with the cast's prescriber, booked three days ahead by a coordinator."""
    from treatment.visits.models import Visit

    starts_at = timezone.now() + timedelta(days=3)
    return Visit.objects.create(
        patient=patient,
        prescriber=_prescriber(),
        kind=Visit.Kind.FOLLOW_UP,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        patient_state=patient.state,
        booked_by=_prescriber(),
    ).pk


def reconciliation_id(patient):
    """A second referral of the patient's address by their referring therapist: it waits for a coordinator."""
    from patients import services as patient_services

    return patient_services.patient_refer(
        actor=patient.referred_by,
        first_name=patient.first_name,
        last_name=patient.last_name,
        email=patient.email,
        date_of_birth=patient.date_of_birth,
        state=patient.state,
        invite=False,
    ).pk


def reminder_id(patient):
    """A reminder about the patient to the referring therapist, as the planner writes one."""
    from django.utils import timezone

    from messaging.reminders.models import Reminder

    return Reminder.objects.create(
        kind=Reminder.Kind.SESSION_NOTE_UNSIGNED,
        object_id="matrix",
        occasion=f"24h|user:{patient.referred_by_id}",
        recipient=patient.referred_by,
        patient=patient,
        due_at=timezone.now(),
    ).pk


def care_team_message_id(patient, *, urgent=False):
    """A care-team message the referring therapist wrote (to the prescriber, when the patient has one)."""
    from messaging import services as messaging_services

    return messaging_services.message_send(
        actor=patient.referred_by, patient=patient, body="Slept badly after the session.", urgent=urgent
    ).pk


def notification_id(patient):
    """An in-app notification about the patient for the referring therapist."""
    from messaging import services as messaging_services

    return messaging_services.notification_create(
        recipients=[patient.referred_by], kind="message", title="New message", patient=patient
    )[0].pk


def latest_session_id(patient):
    from treatment.models import TherapySession

    return str(TherapySession.objects.filter(patient=patient).latest("created_at").pk)


def draft_session_note_id(patient):
    """An empty draft progress note by the referring therapist on a session that started an hour ago."""
    from treatment.models import SessionNote

    return SessionNote.objects.create(
        session_id=past_session_id(patient), patient=patient, author=patient.referred_by
    ).pk


def psychotherapy_note_id(patient):
    """The referring therapist's own psychotherapy note on a session that started an hour ago."""
    from treatment.models import PsychotherapyNote

    return PsychotherapyNote.objects.create(
        session_id=past_session_id(patient), patient=patient, author=patient.referred_by, body="Private."
    ).pk


def integration_summary_id(patient):
    from treatment.models import IntegrationSummary

    return IntegrationSummary.objects.create(
        session_id=past_session_id(patient, kind="integration"),
        patient=patient,
        author=patient.referred_by,
        themes="Grief.",
    ).pk


def record_id(route, patient):
    return RECORD_IDS[route](patient) if route in RECORD_IDS else patient.pk


# Rows a refused request may write: its own audit row (counted below) and the session's bookkeeping.
NOT_A_CHANGE = ("audit_auditevent", "django_session")
XID = 2**32  # row versions carry 32-bit transaction ids


def write_marks():
    """Where this transaction's writes stand: PostgreSQL's own counters for it (pg_stat_xact_user_tables: rows
    inserted, updated, deleted by table) and the first transaction id not yet handed out. Two cheap queries
    instead of snapshotting every table around each request."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint %% %s", [XID])
        horizon = cursor.fetchone()[0]
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 AND NOT relname = ANY(%s)",
            [list(NOT_A_CHANGE)],
        )
        return horizon, {table: counts for table, *counts in cursor.fetchall()}


def tables_changed_since(marks):
    """The tables in which rows changed since `marks`. The counters only grow (a write rolled back with its
    savepoint still counts), so a table whose counters moved is checked: a row inserted or updated that stayed
    is a visible row version whose creating transaction id (xmin) was handed out after the mark; any delete
    counts as a change."""
    horizon, before = marks
    _horizon, after = write_marks()
    changed = []
    with connection.cursor() as cursor:
        for table, counts in after.items():
            was = before.get(table, [0, 0, 0])
            if counts == was:
                continue
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)}"  # noqa: S608 (a table name)
                " WHERE (xmin::text::bigint - %s + %s) %% %s < %s)",
                [horizon, XID, XID, XID // 2],
            )
            if counts[2] != was[2] or cursor.fetchone()[0]:
                changed.append(table)
    return changed


def patient_values(patient):
    return [patient.first_name, patient.last_name, patient.email, patient.date_of_birth.isoformat()]


@pytest.mark.parametrize(("route", "method", "role"), PATIENT_CASES)
def test_patient_route(route_records, api, sign_in, cast, targets, route, method, role):
    client = sign_in(api, role)
    for target in TARGETS:  # one user's requests in a row, in one session
        path = route.format(id=route_records[target])
        _check_patient_route(client, cast, path, route, method, role, targets[target], target)


def _check_patient_route(client, cast, path, route, method, role, patient, target):
    expected_status, body, _kind = ROUTES[route][method]
    expected = expected_status[role][target]
    data = resolve_body(body, cast[role], patient)
    marks = write_marks()
    audit_before = AuditEvent.objects.count()

    with transaction.atomic():  # a savepoint: every row the request writes gets a transaction id after the mark
        response = getattr(client, method.lower())(path, data=data, format="json")

    assert response.status_code == expected, (target, response.content)
    if expected >= 400:
        text = response.content.decode()
        assert not any(value in text for value in patient_values(patient)), f"{target}: a refusal leaked a field"
        assert response["Content-Type"].startswith("application/json"), target
        assert tables_changed_since(marks) == [], f"{target}: a refused request changed a row"
        if expected in (401, 403, 404):
            denied = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).order_by("-id").first()
            assert AuditEvent.objects.count() == audit_before + 1, target
            assert denied is not None, target
            if expected != 401:
                assert denied.patient_id == patient.pk, f"{target}: the refusal is not in the patient's access history"
                assert denied.actor == cast[role], target


@pytest.mark.parametrize(("route", "method", "role"), ROLE_CASES)
def test_route_without_target(api, sign_in, cast, route, method, role):
    expected_status, body, kind = ROUTES[route][method]
    expected = expected_status[role] if kind == "none" else expected_status[role]["A"]
    before = Patient.objects.count()
    denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()

    response = send(sign_in(api, role), cast[role], method, route, body)

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert Patient.objects.count() == before
        assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count() == denied_before + 1


NETWORK_CASES = [
    pytest.param(route, method, role, id=f"{method} {route} {role}")
    for route, methods in ROUTES.items()
    for method, (_expected, _body, kind) in methods.items()
    if kind == "network"
    for role in ROLES
]


def network_ids(cast, targets):
    """The network state `{id}` and bodies name, built through the services: ids by name, as strings."""
    from tests import network_states

    coordinator, therapist_a, prescriber = cast["coordinator"], cast["therapist_a"], cast["prescriber"]
    enrolment = network_states.completed(therapist_a, network_states.course(coordinator, kap=True))
    elective = network_states.course(coordinator, title="Music in sessions", hours="2.00")
    peers = network_states.group(coordinator, therapist_a, prescriber)
    meeting = network_states.past_meeting(therapist_a, peers)
    from network.consultation import services as consultation_services

    presentation = consultation_services.presentation_create(
        actor=therapist_a, group=peers, patient=targets["A"], title="A case", summary="Partial response by week 4."
    )
    ids = {
        "/api/v1/network/courses/{id}/": enrolment.course_id,
        "/api/v1/network/groups/{id}/": peers.pk,
        "/api/v1/network/transcripts/{id}/": therapist_a.pk,
        "/api/v1/network/presentations/{id}/": presentation.pk,
        "elective": elective.pk,
        "group": peers.pk,
        "patient_record": targets["A"].pk,
        "meeting": meeting.pk,
        "enrolment": enrolment.pk,
    }
    ids |= {role: user.pk for role, user in cast.items() if user.is_authenticated}
    return {name: str(value) for name, value in ids.items()}


def _network_path(route, ids):
    for prefix, key in (("/api/v1/network/enrolments/", "enrolment"), ("/api/v1/network/meetings/", "meeting")):
        if route.startswith(prefix):
            return route.format(id=ids[key])
    return route.format(id=ids.get(route, ""))


@pytest.mark.parametrize(("route", "method", "role"), NETWORK_CASES)
def test_network_route(api, sign_in, settings, tmp_path, cast, targets, route, method, role):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    ids = network_ids(cast, targets)
    expectations, body, _kind = ROUTES[route][method]
    expected = expectations[role]
    data = body(cast[role], ids) if callable(body) else body
    client = sign_in(api, role)
    marks = write_marks()
    denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()

    with transaction.atomic():
        response = getattr(client, method.lower())(_network_path(route, ids), data=data, format="json")

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"].startswith("application/json")
        assert tables_changed_since(marks) == [], "a refused request changed a row"
        assert targets["A"].last_name not in response.content.decode()
        if expected in (401, 403, 404):
            denied = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()
            assert denied == denied_before + 1


SCHEDULE_CASES = [
    pytest.param(route, method, role, id=f"{method} {route} {role}")
    for route, methods in ROUTES.items()
    for method, (_expected, _body, kind) in methods.items()
    if kind == "schedule"
    for role in ROLES
]


def prescribers_row_id(prescriber, route):
    """A row of the prescriber's own schedule of the kind the route serves, added through the services."""
    from treatment.visits import services as visit_services

    ahead = timezone.now() + timedelta(days=30)
    if "/weekly-hours/" in route:
        row = visit_services.hours_add(actor=prescriber, weekday=0, start_time=time(9), end_time=time(12))
    elif "/dates/" in route:
        row = visit_services.date_hours_add(actor=prescriber, on=ahead.date())
    else:
        row = visit_services.time_off_add(actor=prescriber, starts_at=ahead, ends_at=ahead + timedelta(days=1))
    return row.pk


@pytest.mark.parametrize(("route", "method", "role"), SCHEDULE_CASES)
def test_schedule_route(api, sign_in, cast, route, method, role):
    expectations, body, _kind = ROUTES[route][method]
    expected = expectations[role]
    path = route.format(id=prescribers_row_id(cast["prescriber"], route))
    client = sign_in(api, role)
    marks = write_marks()
    denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()

    with transaction.atomic():
        response = getattr(client, method.lower())(path, data=body, format="json")

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"].startswith("application/json")
        assert tables_changed_since(marks) == [], "a refused request changed a row"
        if expected in (401, 403, 404):
            assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count() == denied_before + 1


VISIBLE_IN_LIST = {
    "therapist_a": {"A"},
    "therapist_b": {"B"},
    "prescriber": {"A", "B"},
    "coordinator": {"A", "A2", "B"},
    "patient": {"A"},
    "other_patient": {"B"},
    "admin": set(),
}


@pytest.mark.parametrize("role", sorted(VISIBLE_IN_LIST))
def test_patient_list_shows_exactly_the_visible_patients(api, sign_in, cast, targets, role):
    response = send(sign_in(api, role), cast[role], "GET", "/api/v1/patients/", None)

    listed = {item["id"] for item in response.json()["results"]}
    assert listed == {str(targets[name].pk) for name in VISIBLE_IN_LIST[role]}


def _api_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern


def _canonical(pattern):
    """`api/v1/^patients/(?P<pk>[^/.]+)/$` -> `/api/v1/patients/{id}/`."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)|<[^>]+>", "{id}", pattern)
    return "/" + path.replace("^", "").replace("$", "")


def test_every_api_route_is_in_the_matrix():
    in_matrix = {route.split("?")[0] for route in ROUTES}
    api_routes = {_canonical(p) for p in _api_routes() if p.startswith("api/")}
    missing = api_routes - in_matrix
    assert not missing, f"add these routes to the access matrix: {sorted(missing)}"
    assert in_matrix <= api_routes, f"the matrix names routes that do not exist: {sorted(in_matrix - api_routes)}"


# The portal's pages answer like the API: 404 for outsiders, 403 for a role that may not, and a
# visitor who is not signed in is sent to the sign-in page.
PAGES = {
    "/patients/{id}/": READ_PATIENT,
    "/patients/{id}/access-history/": READ_ACCESS_HISTORY,
    "/patients/{id}/access-history/?outcome=denied": READ_ACCESS_HISTORY,
    "/patients/{id}/identity-changes/": READ_PATIENT,
    "/patients/{id}/intake/": READ_PATIENT,
    "/patients/{id}/messages/": READ_CLINICAL,
    "/patients/{id}/messages/patient/": READ_PATIENT_THREAD,
    "/patients/{id}/record/": EXPORT_RECORD,
    "/patients/{id}/prescriptions/": READ_PRESCRIPTIONS,
    # Issue 21: the prescriber's pages. Another prescriber's patient (A2, X) is 404; the therapist, the patient and
    # coordinators are refused (403, the rule named). `{rx}` is a prescription of the target patient.
    "/patients/{id}/prescriptions/new/": PRESCRIBER_WRITES,
    "/patients/{id}/pdmp-checks/new/": PDMP_ONLY_PRESCRIBER,
    "/patients/{id}/prescriptions/{rx}/": READ_PRESCRIPTIONS,
}
PAGE_RECORDS = {"/patients/{id}/prescriptions/{rx}/": lambda patient: {"rx": prescription_id(patient)}}
PAGE_CASES = [pytest.param(page, role, id=f"{page} {role}") for page in PAGES for role in ROLES]


@pytest.mark.parametrize(("page", "role"), PAGE_CASES)
def test_patient_page(client, sign_in, cast, targets, page, role):
    sign_in(client, role)
    for target in TARGETS:
        _check_patient_page(client, page, PAGES[page][role][target], targets[target])


def _page_path(page, patient):
    records = PAGE_RECORDS[page](patient) if page in PAGE_RECORDS else {}
    return page.format(id=patient.pk, **records)


def _check_patient_page(client, page, expected, patient):
    path = _page_path(page, patient)
    denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient).count()

    response = client.get(path)

    if expected == 401:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        return
    assert response.status_code == expected, (page, patient.last_name)
    if expected >= 400:
        text = response.content.decode()
        assert not any(value in text for value in patient_values(patient)), (page, patient.last_name)
        denied_after = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient).count()
        assert denied_after == denied_before + 1
    else:
        assert patient.last_name in response.content.decode()


# Issue 21: the prescriber's forms, posted. Allowed: the PDMP check is attested and the prescription cancelled
# (302); prescribing is refused by its rule (409: the target has no signed dose plan). Refused: nothing changes
# but the audit row of the refusal.
PAGE_WRITES = {
    "/patients/{id}/prescriptions/new/": (
        allowed_as(PRESCRIBER_WRITES, 409),
        {
            "quantity": "3",
            "refills": "0",
            "days_supply": "30",
            "directions": "One tablet under the tongue.",
            "pharmacy_name": "Bay Compounding",
            "pharmacy_address": "12 Market St",
            "pharmacy_phone": "+1 415 555 0100",
            "pharmacy_ncpdp_id": "0512345",
            "channel": "printed",
        },
    ),
    "/patients/{id}/pdmp-checks/new/": (
        allowed_as(PDMP_ONLY_PRESCRIBER, 302),
        lambda: {"checked_on": timezone.localdate().isoformat(), "state": "CA", "result": "no_concerns"},
    ),
    "/patients/{id}/prescriptions/{rx}/": (allowed_as(PRESCRIBER_WRITES, 302), {"reason": "Dose changed."}),
}
PAGE_WRITE_CASES = [pytest.param(page, role, id=f"POST {page} {role}") for page in PAGE_WRITES for role in ROLES]


@pytest.mark.parametrize(("page", "role"), PAGE_WRITE_CASES)
def test_patient_page_write(client, sign_in, cast, targets, page, role):
    sign_in(client, role)
    expectations, body = PAGE_WRITES[page]
    for target in TARGETS:
        patient = targets[target]
        path = _page_path(page, patient)
        marks = write_marks()
        denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient).count()
        with transaction.atomic():
            response = client.post(path, body() if callable(body) else body)
        expected = expectations[role][target]
        if expected == 401:
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
            continue
        assert response.status_code == expected, (page, target)
        if expected in (403, 404):
            assert tables_changed_since(marks) == [], f"{target}: a refused request changed a row"
            denied = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient).count()
            assert denied == denied_before + 1, target


# Issue 21: a site's controlled-substance log. The site is the cast's medical group's, therapist A works there:
# the group's prescribers and the site's clinicians keep the log, another clinician gets 404, and patients,
# coordinators and administrators are refused (403); coordinators list and add the group's sites.
SITES_PAGE = dict.fromkeys(ROLES, 403) | dict.fromkeys(["therapist_a", "therapist_b", "prescriber", "coordinator"], 200)
LOG_PAGE = dict.fromkeys(ROLES, 403) | {"therapist_a": 200, "therapist_b": 404, "prescriber": 200}
SITE_PAGES = {
    ("GET", "/stock-sites/"): (SITES_PAGE, None),
    ("POST", "/stock-sites/"): (
        SITES_PAGE | {"coordinator": 302, "therapist_a": 403, "therapist_b": 403, "prescriber": 403},
        {"name": "New office", "address": "2 Main St"},
    ),
    ("GET", "/stock-sites/{site}/"): (LOG_PAGE, None),
    (
        "POST",
        "/stock-sites/{site}/",
    ): (
        LOG_PAGE | {"therapist_a": 302, "prescriber": 302},
        {"kind": "receipt", "receipt-lot": "L9", "receipt-expires_on": "2099-01-01", "receipt-quantity_mg": "10"},
    ),
}
SITE_CASES = [
    pytest.param(method, page, role, id=f"{method} {page} {role}") for method, page in SITE_PAGES for role in ROLES
]


@pytest.mark.parametrize(("method", "page", "role"), SITE_CASES)
def test_stock_site_page(client, sign_in, cast, method, page, role):
    from treatment.models import StockEntry, StockSite

    site = StockSite.objects.create(medical_group=cast["prescriber"].organization, name="Office", address="1 Main")
    site.clinicians.add(cast["therapist_a"])
    sign_in(client, role)
    expectations, body = SITE_PAGES[(method, page)]
    denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()
    sites_before = StockSite.objects.count()

    response = getattr(client, method.lower())(page.format(site=site.pk), body or {})

    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        return
    assert response.status_code == expectations[role]
    if expectations[role] in (403, 404):
        assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count() == denied_before + 1
        assert StockSite.objects.count() == sites_before and not StockEntry.objects.exists()
    if response.status_code == 200 and page.endswith("{site}/"):
        assert "Running balance" in response.content.decode()


# API tokens (issue 13): every signed-in role manages its own tokens on the page under Account, and only
# its own: revoking anyone else's token is a 404 for every role. A visitor is sent to the sign-in page.
API_TOKENS_PAGE = "/accounts/api-tokens/"


@pytest.mark.parametrize("role", ROLES)
def test_api_tokens_page_serves_only_the_callers_own_tokens(client, sign_in, cast, targets, role):
    from knox.models import AuthToken

    from kapcare.accounts import services as account_services

    someone_else, _token = account_services.api_token_create(
        actor=None, user=targets["X"].referred_by, name="Theirs", days=30
    )
    user = cast[role]
    sign_in(client, role)

    page = client.get(API_TOKENS_PAGE)
    revoke = client.post(f"{API_TOKENS_PAGE}{someone_else.pk}/revoke/")

    if user.is_authenticated:
        assert page.status_code == 200
        assert "Theirs" not in page.content.decode()
        assert revoke.status_code == 404
    else:
        assert page.status_code == revoke.status_code == 302
        assert page["Location"].startswith("/accounts/login/")
    assert AuthToken.objects.filter(pk=someone_else.auth_token_id).exists()
