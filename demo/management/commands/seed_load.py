"""Synthetic data at scale for `make bench` (CONTRACT.md: `manage.py seed_load --patients N`).

N patients over 20 therapists in 10 practices and 5 prescribers of one medical group, each with a portal
account, a referral, a care team, a submitted intake, a signed evaluation, a course with a signed dose plan,
2-12 sessions, 3-15 questionnaire responses and audit rows; plus the records of later issues (vitals, notes,
messages, reminders) when their models are installed (`EXTRA_SEEDERS`).

Rows go in with COPY (`copy_rows`), a chunk of patients per transaction, never through the per-row services:
this is load for measuring reads, not a check of the write rules (the tests do that). Progress goes to stderr.
`--due-follow-ups N` holds the work due for reminders to N follow-ups at any size (the planning bench).
It lives in the topmost app because it spans every app. It refuses to run twice on one database: the audit
trail cannot be deleted, so "start again" means a fresh database.
"""

import io
import json
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from assessments import instruments
from assessments.models import MEDICAL_CONDITIONS, Evaluation, Intake, QuestionnaireResponse
from kapcare.accounts.models import ClinicianProfile, DEARegistration, KAPTraining, Licence, Organization
from kapcare.audit.models import AuditEvent
from kapcare.signing.mode import signing
from kapcare.signing.models import content_sha256
from patients import due_work
from patients.models import CareTeamMember, Patient, Referral, Stage
from patients.time_zones import STATE_TIME_ZONES
from treatment.models import DosePlan, FollowUp, TherapySession, TreatmentCourse

User = get_user_model()

DOMAIN = "load.kapcare.test"
PASSWORD = "kapcare-load-2026"  # noqa: S105 (synthetic accounts of a benchmark database)
MEDICAL_GROUP = "Load Medical Group"
THERAPISTS = 20  # two to a practice
PRESCRIBERS = 5
# One state per prescriber: each patient lives where their prescriber is licensed.
STATES = ("CA", "OR", "WA", "CO", "NY")
CHUNK = 1000  # patients per transaction
BATCH = 5000  # rows per INSERT statement

FIRST_NAMES = (
    "Avery",
    "Blake",
    "Casey",
    "Dana",
    "Eden",
    "Finley",
    "Gray",
    "Harper",
    "Indigo",
    "Jesse",
    "Kai",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Riley",
    "Sage",
    "Taylor",
    "Robin",
    "Drew",
    "Emery",
    "Rowan",
)
LAST_NAMES = (
    "Abbott",
    "Bishop",
    "Carver",
    "Dalton",
    "Ellison",
    "Fairbanks",
    "Garner",
    "Holloway",
    "Ingram",
    "Jennings",
    "Keller",
    "Lawson",
    "Mercer",
    "Nolan",
    "Osborne",
    "Prescott",
    "Ramsey",
    "Sutton",
    "Thornton",
    "Underwood",
    "Whitaker",
    "Yates",
    "Nguyen",
    "Patel",
)
REASONS = [Referral.Reason.TREATMENT_RESISTANT_DEPRESSION, Referral.Reason.TRAUMA, Referral.Reason.ANXIETY]
# Stage of the course and how likely it is.
STAGE_WEIGHTS = {
    Stage.PREPARATION: 2,
    Stage.DOSING: 5,
    Stage.MAINTENANCE: 2,
    Stage.COMPLETED: 1,
    Stage.DISCONTINUED: 0.3,
}
QUESTIONNAIRES = ("phq9", "gad7", "pcl5")


def only_fields(model, values):
    """Keep the values the installed model has: the seeder works before and after other issues add fields."""
    names = {f.attname for f in model._meta.concrete_fields} | {f.name for f in model._meta.concrete_fields}
    return model(**{key: value for key, value in values.items() if key in names})


def model_or_none(label):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


@dataclass
class Staff:
    group: Organization
    practices: list
    therapists: list
    prescribers: list
    coordinator: object
    admin: object


@dataclass
class Rows:
    """Every row of one chunk, by model, inserted parent before child."""

    by_model: dict = field(default_factory=dict)

    def add(self, obj):
        self.by_model.setdefault(type(obj), []).append(obj)
        return obj

    def count(self):
        return sum(len(objs) for objs in self.by_model.values())


class Command(BaseCommand):
    help = "Load N synthetic patients with their records in bulk, for benchmarks. Refuses a database that has them."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True, help="How many patients to create.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (the same seed, the same data).")
        parser.add_argument("--therapists", type=int, default=THERAPISTS, help="Therapists, two to a practice.")
        parser.add_argument("--prescribers", type=int, default=PRESCRIBERS, choices=range(1, len(STATES) + 1))
        parser.add_argument(
            "--due-follow-ups",
            type=int,
            default=None,
            help="Exactly this many follow-up visits due tomorrow and nothing else in a reminder window (no dosing "
            "session in the next two days, every questionnaire just answered): reminder planning then has the same "
            "due work at any size.",
        )

    def handle(self, *, patients, seed, therapists, prescribers, due_follow_ups, **options):
        if patients < 1 or therapists < 1:
            raise CommandError("--patients and --therapists must be at least 1.")
        if Organization.objects.filter(name=MEDICAL_GROUP).exists():
            loaded = Patient.objects.filter(medical_group__name=MEDICAL_GROUP).count()
            raise CommandError(
                f"This database already holds the load set ({loaded} patients of {MEDICAL_GROUP}). "
                "seed_load runs once per database (the audit trail cannot be deleted): drop the database, "
                "migrate and run it again."
            )
        started = time.monotonic()
        self.random = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
        self.now = timezone.now()
        self.password_hash = make_password(PASSWORD)
        self.due_follow_ups = due_follow_ups
        self.weight_of = {}  # patient id -> the evaluation's weight (the chunk's, for supervision's mg/kg)
        staff = self.create_staff(therapists, prescribers)
        self.in_test = connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.superuser = cursor.fetchone()[0]
        total_rows = 0
        for first in range(0, patients, CHUNK):
            count = min(CHUNK, patients - first)
            with transaction.atomic(), signing():  # rows written as signed, as their sign services would
                rows, self.weight_of = Rows(), {}
                for index in range(first, first + count):
                    self.build_patient(rows, staff, index)
                for seeder in EXTRA_SEEDERS:
                    seeder(self, rows, staff)
                self.insert(rows)
            total_rows += rows.count()
            self.stderr.write(
                f"  {first + count}/{patients} patients, {total_rows} rows, {time.monotonic() - started:.1f} s"
            )
        if not connection.in_atomic_block:
            with connection.cursor() as cursor:
                # Statistics first: without them the planner reads the rules' subqueries with nested loops
                # over whole tables (minutes per chunk at 10,000 patients).
                cursor.execute("ANALYZE")
        # Rows went in around the services, so their due work is stored here, as the beat task would.
        due_rows = due_work.reconcile()
        self.stderr.write(f"  due work stored: {due_rows} rows, {time.monotonic() - started:.1f} s")
        if not connection.in_atomic_block:  # VACUUM cannot run in a transaction (a test's)
            with connection.cursor() as cursor:
                # The visibility map too, so index-only scans need no heap fetches, as on a settled database.
                cursor.execute("VACUUM ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {patients} patients ({total_rows} rows) in {time.monotonic() - started:.1f} s. "
                f"Staff sign in as therapist01@{DOMAIN} ... prescriber1@{DOMAIN}, coordinator@{DOMAIN}, "
                f"admin@{DOMAIN}; patients as patient000000@{DOMAIN}; password {PASSWORD}."
            )
        )

    # Staff ---------------------------------------------------------------------------------------

    def user(self, email, role, first_name, last_name, organization=None):
        user = User.objects.create(
            email=email,
            role=role,
            first_name=first_name,
            last_name=last_name,
            organization=organization,
            password=self.password_hash,
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    def create_staff(self, therapist_count, prescriber_count):
        group = Organization.objects.create(name=MEDICAL_GROUP, kind=Organization.Kind.MEDICAL_GROUP)
        practices = [
            Organization.objects.create(
                name=f"Load Practice {n:02d}", kind=Organization.Kind.THERAPY_PRACTICE, medical_group=group
            )
            for n in range(1, (therapist_count + 1) // 2 + 1)
        ]
        therapists = []
        current = {"expires_on": date(self.now.year + 2, 1, 31), "verified_at": self.now}
        for n in range(1, therapist_count + 1):
            user = self.user(
                f"therapist{n:02d}@{DOMAIN}", User.Role.THERAPIST, "Therapist", f"T{n:02d}", practices[(n - 1) // 2]
            )
            ClinicianProfile.objects.create(user=user, approved_at=self.now)
            # Licensed wherever the load's patients live: each therapist's clients are spread over the states.
            for state in STATES:
                Licence.objects.create(clinician=user, state=state, number=f"LMFT-{n:05d}", **current)
            KAPTraining.objects.create(clinician=user, completed_on=date(2024, 3, 1), provider="Load", title="KAP")
            therapists.append(user)
        prescribers = []
        for n, state in enumerate(STATES[:prescriber_count], start=1):
            user = self.user(f"prescriber{n}@{DOMAIN}", User.Role.PRESCRIBER, "Prescriber", f"P{n}", group)
            ClinicianProfile.objects.create(user=user, approved_at=self.now)
            Licence.objects.create(clinician=user, state=state, number=f"MD-{n:05d}", **current)
            DEARegistration.objects.create(clinician=user, state=state, number=f"BP{n:07d}", **current)
            KAPTraining.objects.create(clinician=user, completed_on=date(2024, 3, 1), provider="Load", title="KAP")
            prescribers.append(user)
        coordinator = self.user(f"coordinator@{DOMAIN}", User.Role.COORDINATOR, "Coordinator", "Load", group)
        admin = self.user(f"admin@{DOMAIN}", User.Role.ADMIN, "Admin", "Load")
        return Staff(group, practices, therapists, prescribers, coordinator, admin)

    # One patient ---------------------------------------------------------------------------------

    def build_patient(self, rows, staff, index):
        rnd = self.random
        therapist = staff.therapists[index % len(staff.therapists)]
        prescriber = staff.prescribers[index % len(staff.prescribers)]
        state = STATES[index % len(staff.prescribers)]
        stage = rnd.choices(list(STAGE_WEIGHTS), weights=list(STAGE_WEIGHTS.values()))[0]
        referred_at = self.now - timedelta(days=rnd.randint(30, 400), minutes=rnd.randint(0, 1440))
        intake_at = referred_at + timedelta(days=rnd.randint(2, 10))
        evaluated_at = intake_at + timedelta(days=rnd.randint(3, 14))

        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        account = rows.add(
            User(
                email=f"patient{index:06d}@{DOMAIN}",
                role=User.Role.PATIENT,
                first_name=first,
                last_name=last,
                password=self.password_hash,
                date_joined=referred_at,
            )
        )
        rows.add(EmailAddress(user=account, email=account.email, verified=True, primary=True))
        patient = rows.add(
            Patient(
                first_name=first,
                last_name=f"{last}-{index:06d}",
                date_of_birth=date(1950 + rnd.randint(0, 52), rnd.randint(1, 12), rnd.randint(1, 28)),
                email=f"p{index:06d}@{DOMAIN}",
                phone=f"555-{rnd.randint(100, 999)}-{rnd.randint(1000, 9999)}",
                state=state,
                time_zone=STATE_TIME_ZONES[state],
                stage=stage,
                medical_group=staff.group,
                user=account,
                referred_by=therapist,
                intake_submitted_at=intake_at,
            )
        )
        rows.add(
            Referral(
                patient=patient,
                reasons=[rnd.choice(REASONS).value],
                reason_details="Depression that has not lifted with two antidepressants and weekly therapy.",
                current_treatment="Weekly psychotherapy.",
                current_medications="Sertraline 100 mg daily.",
            )
        )
        for clinician, role in ((therapist, "therapist"), (prescriber, "prescriber")):
            rows.add(CareTeamMember(patient=patient, clinician=clinician, role=role, active_from=referred_at))
        intake = rows.add(self.intake(patient, account, intake_at))
        evaluation = rows.add(self.evaluation(patient, prescriber, intake, evaluated_at))
        self.weight_of[patient.pk] = evaluation.weight_kg
        ended = stage in (Stage.COMPLETED, Stage.DISCONTINUED)
        course = rows.add(
            TreatmentCourse(
                patient=patient,
                started_at=evaluated_at,
                ended_at=self.now - timedelta(days=rnd.randint(1, 20)) if ended else None,
            )
        )
        plan = rows.add(self.dose_plan(course, patient, prescriber, evaluated_at))
        signed = [("evaluation", evaluation), ("dose_plan", plan)]
        if stage == Stage.MAINTENANCE:  # the visit that moved the course to maintenance
            visit = self.signed_follow_up(course, prescriber, evaluated_at, FollowUp.Decision.MAINTENANCE)
            signed.append(("follow_up", rows.add(visit)))
        if ended:
            decision = FollowUp.Decision.COMPLETE if stage == Stage.COMPLETED else FollowUp.Decision.DISCONTINUE
            signed.append(("follow_up", rows.add(self.signed_follow_up(course, prescriber, course.ended_at, decision))))
        else:
            rows.add(
                FollowUp(
                    course=course,
                    patient=patient,
                    prescriber=prescriber,
                    due_on=self.follow_up_due_on(),
                )
            )
        rows.by_model.setdefault("signed", []).extend((kind, record, prescriber) for kind, record in signed)
        self.sessions(rows, patient, course, plan, therapist, stage, evaluated_at)
        self.questionnaires(rows, patient, account, evaluated_at)
        self.audit_trail(rows, patient, therapist, prescriber, account, evaluation)
        rows.by_model.setdefault("patients", []).append((patient, therapist, prescriber, account))

    def follow_up_due_on(self):
        """Anywhere from 5 days late to 90 ahead; with --due-follow-ups, tomorrow for that many, else 30-90 ahead."""
        if self.due_follow_ups is None:
            return (self.now + timedelta(days=self.random.randint(-5, 90))).date()
        if self.due_follow_ups > 0:
            self.due_follow_ups -= 1
            return (self.now + timedelta(days=1)).date()
        return (self.now + timedelta(days=self.random.randint(30, 90))).date()

    def upcoming_at(self):
        """When a session still ahead is booked: 1-14 days on; with --due-follow-ups, after the dosing reminder's
        two-day window."""
        return self.now + timedelta(days=self.random.randint(1 if self.due_follow_ups is None else 3, 14))

    def intake(self, patient, account, submitted_at):
        answers = dict.fromkeys(MEDICAL_CONDITIONS, False)
        answers.update(
            dict.fromkeys(
                (
                    "psychosis",
                    "schizophrenia_spectrum",
                    "family_psychosis",
                    "mania_or_bipolar",
                    "suicide_attempt",
                    "psychiatric_hospitalisation",
                    "suicidal_thoughts",
                    "personality_disorder",
                    "uses_recreational_drugs",
                    "pregnant",
                    "breastfeeding",
                    "ivf",
                ),
                False,
            )
        )
        return Intake(
            patient=patient,
            status=Intake.Status.SUBMITTED,
            submitted_at=submitted_at,
            submitted_by=account,
            alcohol_drinks_per_week=self.random.randint(0, 6),
            can_abstain_alcohol_24h=True,
            uses_cannabis=False,
            substance_use_disorder="none",
            takes_medications=False,
            allergies="none",
            height_cm=self.random.randint(155, 195),
            weight_kg=Decimal(self.random.randint(500, 1000)) / 10,
            bp_systolic=self.random.randint(105, 135),
            bp_diastolic=self.random.randint(65, 85),
            pulse=self.random.randint(55, 90),
            has_support_person=True,
            **answers,
        )

    def evaluation(self, patient, prescriber, intake, signed_at):
        evaluation = Evaluation(
            patient=patient,
            prescriber=prescriber,
            intake=intake,
            bp_systolic=intake.bp_systolic,
            bp_diastolic=intake.bp_diastolic,
            pulse=intake.pulse,
            weight_kg=intake.weight_kg,
            psychiatric_assessment="Recurrent major depression; no psychosis, no mania.",
            medical_assessment="Healthy adult; blood pressure controlled.",
            diagnosis="Major depressive disorder, recurrent, moderate",
            icd10_code="F33.1",
            decision=Evaluation.Decision.ELIGIBLE,
            rationale="Treatment-resistant depression with support at home.",
            status=Evaluation.Status.SIGNED,
            signed_at=signed_at,
            signed_by=prescriber,
        )
        evaluation.content_hash = content_sha256(evaluation.signed_content([]))
        return evaluation

    def dose_plan(self, course, patient, prescriber, signed_at):
        plan = DosePlan(
            course=course,
            patient=patient,
            version=1,
            prescriber=prescriber,
            route=DosePlan.Route.SUBLINGUAL_RDT,
            tablet_strength_mg=Decimal("100.0"),
            full_dose_mg=Decimal("200.0"),
            start_at=DosePlan.Start.HALF,
            doses_authorized=6,
            instructions_patient="Nothing to eat for 4 hours before. Hold the tablets under your tongue 10 minutes.",
            instructions_therapist="Blood pressure before the dose and at 40 minutes.",
            status=DosePlan.Status.SIGNED,
            signed_at=signed_at,
            signed_by=prescriber,
        )
        plan.content_hash = plan.compute_hash()
        return plan

    def signed_follow_up(self, course, prescriber, at, decision):
        """A signed visit: a discharge when the course ended (signed that day, or late a few days in ten), or the
        visit that moved the course to maintenance (about a month after the evaluation)."""
        if decision == FollowUp.Decision.MAINTENANCE:
            at = min(at + timedelta(days=30), self.now - timedelta(days=1))
        late = self.random.random() < 0.1
        follow_up = FollowUp(
            course=course,
            patient=course.patient,
            prescriber=prescriber,
            due_on=(at - timedelta(days=self.random.randint(1, 6) if late else 0)).date(),
            symptoms="Mood lifted; sleeping better." if decision != FollowUp.Decision.DISCONTINUE else "Worse.",
            side_effects="Transient nausea.",
            decision=decision,
            rationale="As discussed with the patient and the therapist.",
            status=FollowUp.Status.SIGNED,
            signed_at=at,
            signed_by=prescriber,
        )
        follow_up.content_hash = follow_up.compute_hash()
        return follow_up

    def sessions(self, rows, patient, course, plan, therapist, stage, start):
        """2-12 sessions: preparation, then dosing and integration in turn; the last ones still ahead."""
        rnd = self.random
        count = 2 if stage == Stage.PREPARATION else rnd.randint(3, 12)
        upcoming = 1 if stage in (Stage.PREPARATION, Stage.DOSING) else 0
        kinds = [TherapySession.Kind.PREPARATION]
        while len(kinds) < count:
            kinds.append(TherapySession.Kind.DOSING if len(kinds) % 2 else TherapySession.Kind.INTEGRATION)
        if stage == Stage.PREPARATION:
            kinds = [TherapySession.Kind.PREPARATION, TherapySession.Kind.PREPARATION]
        at = start
        for n, kind in enumerate(kinds):
            at = at + timedelta(days=rnd.randint(3, 8))
            ahead = n >= count - upcoming
            if ahead:
                at = max(at, self.upcoming_at())
            session = rows.add(
                only_fields(
                    TherapySession,
                    {
                        "course": course,
                        "patient": patient,
                        "kind": kind,
                        "scheduled_at": at,
                        "duration_minutes": 180 if kind == TherapySession.Kind.DOSING else 60,
                        "therapist": therapist,
                        "status": TherapySession.Status.SCHEDULED if ahead else TherapySession.Status.COMPLETED,
                        "dose_plan": plan if kind == TherapySession.Kind.DOSING else None,
                        "created_by": therapist,
                        "completed_at": None if ahead else at + timedelta(hours=2),
                        "completed_by": None if ahead else therapist,
                    },
                )
            )
            rows.by_model.setdefault("sessions", []).append((session, therapist))

    def questionnaires(self, rows, patient, account, start):
        rnd = self.random
        count = rnd.randint(3, 15)
        for n in range(count):
            code = QUESTIONNAIRES[n % len(QUESTIONNAIRES)]
            submitted_at = min(start + timedelta(days=7 * n + 1), self.now)
            if self.due_follow_ups is not None and n >= count - len(QUESTIONNAIRES):
                submitted_at = self.now - timedelta(hours=1)  # each instrument just answered: none due
            instrument = instruments.get(code)
            answers = [rnd.choice(instrument.values[:3]) for _ in instrument.items]
            if code == "phq9":
                answers[-1] = 0  # item 9 above 0 would need a safety alert; the load set has none
            total = instrument.score(answers)
            rows.add(
                QuestionnaireResponse(
                    patient=patient,
                    instrument=code,
                    answers=answers,
                    total_score=total,
                    severity=instrument.severity(total),
                    entered_by=account,
                    submitted_at=submitted_at,
                )
            )

    def audit_trail(self, rows, patient, therapist, prescriber, account, evaluation):
        request_id = f"load{self.random.getrandbits(64):016x}"
        events = [
            (therapist, AuditEvent.Action.CREATE, "patients.patient", patient.pk),
            (therapist, AuditEvent.Action.READ, "patients.patient", patient.pk),
            (prescriber, AuditEvent.Action.READ, "patients.patient", patient.pk),
            (prescriber, AuditEvent.Action.CREATE, "assessments.evaluation", evaluation.pk),
            (account, AuditEvent.Action.READ, "patients.patient", patient.pk),
            (therapist, AuditEvent.Action.LIST, "patients.patient", patient.pk),
        ]
        for actor, action, object_type, object_id in events:
            rows.add(
                AuditEvent(
                    actor=actor,
                    actor_role=actor.role,
                    patient=patient,
                    object_type=object_type,
                    object_id=str(object_id),
                    action=action,
                    request_id=request_id,
                    client_ip="127.0.0.1",
                )
            )

    # Writing -------------------------------------------------------------------------------------

    def insert(self, rows):
        """Each model's rows in one COPY, parents first (the order they were first added). Outside a test's
        transaction, and where the database user may, without the per-row foreign-key triggers: the seeder
        makes every parent before its children (the tiny-size test runs with the checks on)."""
        if not self.in_test and self.superuser:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        for model, objs in rows.by_model.items():
            if not isinstance(model, str):  # str keys are bookkeeping for the extra seeders
                copy_rows(model, objs)


def copy_rows(model, objs):
    """COPY the objects into the model's table, as bulk_create would store them, at a fraction of its cost:
    ids from the sequence first (for models with an integer key), foreign keys from the parents' ids."""
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    if model._meta.pk.db_returning:  # AutoField: ask the sequence for the ids, as INSERT would
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    buffer, writers = io.StringIO(), [copy_writer(field) for field in fields]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="seed_load")
        values = (write(field.pre_save(obj, True)) for field, write in zip(fields, writers, strict=True))
        buffer.write("\t".join(values) + "\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN", buffer
        )
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_writer(field):
    """A function of a field's value to its text in COPY's format. The seeder's values are already of the
    column's type (str, int, UUID, Decimal, date, aware datetime, choices): only JSON and booleans need turning."""
    if isinstance(field, models.JSONField):
        text = partial(json.dumps, cls=field.encoder)
    elif isinstance(field, models.BooleanField):
        text = {True: "t", False: "f"}.__getitem__
    else:
        text = str

    def write(value):
        return "\\N" if value is None else text(value).translate(COPY_ESCAPES)

    return write


# Records of later issues, seeded when their models are installed: each function gets the command, the chunk's
# rows (rows.by_model["patients"] is [(patient, therapist, prescriber, account)], rows.by_model["sessions"] is
# [(session, therapist)]) and the staff, and adds its rows with rows.add(...), children after parents.


def seed_messages(command, rows, staff):
    """5-50 care-team messages per patient, when messaging has them."""
    Thread = model_or_none("messaging.Thread")
    Message = model_or_none("messaging.Message")
    if Thread is None or Message is None:
        return
    rnd = command.random
    for patient, therapist, prescriber, account in rows.by_model.get("patients", []):
        thread = rows.add(only_fields(Thread, {"patient": patient, "kind": "care_team"}))
        at = command.now - timedelta(days=60)
        for n in range(rnd.randint(5, 50)):
            at = at + timedelta(hours=rnd.randint(1, 24))
            author = (therapist, prescriber, account)[n % 3]
            rows.add(
                only_fields(
                    Message,
                    {
                        "thread": thread,
                        "patient": patient,
                        "author": author,
                        "body": "How are you sleeping?",
                        "created_at": min(at, command.now),
                    },
                )
            )


def seed_vitals(command, rows, staff):
    """Before-dose and peak readings of each completed dosing session (before the notes: a signed note locks
    its session's vitals, and the database refuses rows added after)."""
    Vitals = model_or_none("treatment.VitalsReading")
    if Vitals is None:
        return
    rnd = command.random
    for session, therapist in rows.by_model.get("sessions", []):
        if session.kind != TherapySession.Kind.DOSING or session.status != TherapySession.Status.COMPLETED:
            continue
        for minutes, phase in ((0, "pre_dose"), (40, "peak")):
            values = {"systolic": rnd.randint(110, 138), "diastolic": rnd.randint(68, 88), "pulse": rnd.randint(60, 95)}
            rows.add(
                only_fields(
                    Vitals,
                    {
                        "session": session,
                        "patient_id": session.patient_id,
                        "phase": phase,
                        "taken_at": session.scheduled_at + timedelta(minutes=minutes),
                        "taken_by": "therapist",
                        "in_range": True,
                        "recorded_by": therapist,
                        **values,
                    },
                )
            )


def seed_notes(command, rows, staff):
    """A signed progress note for each completed session."""
    SessionNote = model_or_none("treatment.SessionNote")
    if SessionNote is None:
        return
    for session, therapist in rows.by_model.get("sessions", []):
        if session.status != TherapySession.Status.COMPLETED:
            continue
        body = "Settled and engaged; discussed intentions and integration practices. No adverse effects."
        rows.add(
            only_fields(
                SessionNote,
                {
                    "session": session,
                    "patient_id": session.patient_id,
                    "author": therapist,
                    "body": body,
                    "status": "signed",
                    "signed_at": session.completed_at,
                    "signed_by": therapist,
                    "content_hash": content_sha256({"session": str(session.pk), "body": body}),
                },
            )
        )


def seed_consents(command, rows, staff):
    """Every patient has signed the current version of each published consent document."""
    from patients.models import ConsentDocument, ConsentSignature

    documents = getattr(command, "consent_documents", None)
    if documents is None:
        documents = command.consent_documents = list(ConsentDocument.objects.current())
    for patient, _therapist, _prescriber, _account in rows.by_model.get("patients", []):
        for document in documents:
            rows.add(
                ConsentSignature(
                    patient=patient,
                    document=document,
                    typed_name=patient.full_name,
                    signed_at=patient.intake_submitted_at,
                    text_sha256=document.text_sha256,
                )
            )


def seed_adverse_events(command, rows, staff):
    """Side effects reported after about one completed dosing session in twelve (mostly mild), and a moderate one
    in most courses discontinued: the outcomes page's rates per 100 dosing sessions and reasons to stop. The load's
    first patient always reports one (between sessions), so the side-effect list has rows at any size (the query
    counts of tests/test_query_counts compare sizes)."""
    AdverseEvent = model_or_none("treatment.AdverseEvent")
    if AdverseEvent is None:
        return
    rnd = command.random
    kinds = [kind for kind in AdverseEvent.Kind.values if kind != AdverseEvent.Kind.OTHER]

    def report(course_id, patient_id, session, therapist, severity):
        values = {
            "course_id": course_id,
            "patient_id": patient_id,
            "session": session,
            "reported_by": therapist,
            "kind": rnd.choice(kinds),
            "severity": severity,
            "onset_minutes": rnd.randint(10, 120) if session else None,
            "who_was_told": "the prescriber",
        }
        rows.add(only_fields(AdverseEvent, values))

    if not getattr(command, "first_adverse_event", False):
        first, therapist = rows.by_model[TreatmentCourse][0], rows.by_model["patients"][0][1]
        report(first.pk, first.patient_id, None, therapist, "mild")
        command.first_adverse_event = True
    stopped = {p.pk for p, *_ in rows.by_model.get("patients", []) if p.stage == Stage.DISCONTINUED}
    for session, therapist in rows.by_model.get("sessions", []):
        if session.kind != TherapySession.Kind.DOSING or session.status != TherapySession.Status.COMPLETED:
            continue
        harmed = session.patient_id in stopped and rnd.random() < 0.5
        if not harmed and rnd.random() >= 1 / 12:
            continue
        severity = "moderate" if harmed else rnd.choices(["mild", "moderate", "severe"], weights=[80, 17, 3])[0]
        report(session.course_id, session.patient_id, session, therapist, severity)


def seed_supervision(command, rows, staff):
    """A supervising psychiatrist over every load prescriber, the medical group's policy (its defaults) and a case
    for each signed evaluation, dose plan and follow-up, picked as the policy picks (a prescriber's first patients
    in the order they were seeded, then the deterministic sample; dose plans above the mg/kg threshold;
    discontinuations after an adverse event). Picked cases are in every state: reviewed agree, discuss, disagree
    (acknowledged or not), and waiting (due or overdue), most of those from the last two months."""
    Case = model_or_none("network.SupervisionCase")
    if Case is None:
        return
    if not hasattr(command, "supervision_policy"):
        command.supervision_policy = supervision_setup(command, staff)
        command.first_patients = {}
    policy, supervisor = command.supervision_policy
    harmed = {event.course_id for event in rows.by_model.get(model_or_none("treatment.AdverseEvent"), [])}
    for kind, record, prescriber in rows.by_model.get("signed", []):
        reason = supervision_reason(command, policy, kind, record, harmed)
        rows.add(Case(**supervision_case(command, policy, kind, record, prescriber, supervisor, reason)))


def supervision_setup(command, staff):
    from network.supervision.models import SupervisionAssignment, SupervisionPolicy

    supervisor = command.user(f"supervisor@{DOMAIN}", User.Role.PRESCRIBER, "Supervisor", "Psychiatry", staff.group)
    ClinicianProfile.objects.create(user=supervisor, approved_at=command.now)
    for prescriber in staff.prescribers:
        SupervisionAssignment.objects.create(prescriber=prescriber, supervisor=supervisor)
    return SupervisionPolicy.objects.create(medical_group=staff.group), supervisor


def supervision_reason(command, policy, kind, record, harmed):
    from network.supervision import services as supervision
    from network.supervision.models import SupervisionCase

    Reason = SupervisionCase.Reason
    if kind == "evaluation":
        rank = command.first_patients[record.prescriber_id] = command.first_patients.get(record.prescriber_id, 0) + 1
        if rank <= policy.first_patients:
            return Reason.FIRST_PATIENTS
        return Reason.SAMPLED if supervision.is_sampled(policy, record.pk) else Reason.NOT_PICKED
    if kind == "dose_plan":
        mg_per_kg = record.mg_per_kg(command.weight_of[record.patient_id])
        return Reason.MG_PER_KG if mg_per_kg > policy.mg_per_kg_threshold else Reason.NOT_PICKED
    stopped = record.decision == FollowUp.Decision.DISCONTINUE and record.course_id in harmed
    return Reason.ADVERSE_EVENT if stopped else Reason.NOT_PICKED


VERDICT_CYCLE = ("disagree", "agree", "discuss", "agree", "agree", "agree", "agree")


def supervision_case(command, policy, kind, record, prescriber, supervisor, reason):
    """The case's columns; a picked record's review state follows its age (older records are reviewed)."""
    values = {"kind": kind, "record_id": record.pk, "patient_id": record.patient_id, "prescriber": prescriber}
    if not reason:
        return values
    due_on = record.signed_at.date() + timedelta(days=policy.review_days)
    values.update(reason=reason, supervisor=supervisor, due_on=due_on)
    age = (command.now - record.signed_at).days
    if command.random.random() < (0.6 if age < 60 else 0.05):
        return values  # waiting: due, or overdue (most of the older ones reviewed)
    # Verdicts in a fixed cycle (about 70/15/15), so even a small load has every state.
    command.reviews = getattr(command, "reviews", 0) + 1
    verdict = VERDICT_CYCLE[(command.reviews - 1) % len(VERDICT_CYCLE)]
    reviewed_at = record.signed_at + timedelta(days=command.random.randint(1, policy.review_days))
    values.update(verdict=verdict, reviewed_at=min(reviewed_at, command.now))
    if verdict != "agree":
        values["comment"] = (
            "Recheck the blood pressure before the next dose."
            if verdict == "disagree"
            else "Let us talk about the titration."
        )
    if verdict == "disagree" and command.reviews % 3 != 1:  # the first disagreement, and one in three, waits
        values["acknowledged_at"] = values["reviewed_at"] + timedelta(days=1)
    return values


# Reminders (messaging.reminders) are planned from these records by the planner; the load set adds none of its
# own. The lead adds a seeder here if the bench should hold reminder rows.
EXTRA_SEEDERS = [seed_messages, seed_vitals, seed_notes, seed_consents, seed_adverse_events, seed_supervision]
