"""Demo data of CONTRACT.md. It lives in the topmost app because demo data spans every app.

Idempotent: whatever already exists is left as it is, so running it twice changes nothing.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from assessments import services as assessment_services
from assessments.models import MEDICAL_CONDITIONS, QuestionnaireResponse, ScreeningFlag
from assessments.questionnaires import services as questionnaire_services
from kapcare.accounts.models import ClinicianProfile, DEARegistration, KAPTraining, Licence, Organization
from kapcare.us_states import USState
from messaging import services as messaging_services
from messaging.models import Message, MessageRecipient, Notification, Thread
from network.joining.demo import seed_applicants
from network.seed import seed_network_demo
from network.supervision.demo import seed_supervision_demo
from patients import content, due_work
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.models import Patient, Stage
from treatment.course import services as course_services
from treatment.models import CarePolicy, IntegrationSummary, Prescription, StockSite, TherapySession, Visit
from treatment.notes import services as note_services
from treatment.prescriptions import services as prescription_services
from treatment.prescriptions import stock
from treatment.sessions import services as session_services
from treatment.visits import selectors as visit_selectors
from treatment.visits import services as visit_services
from treatment.visits.models import Schedule, WeeklyHours

User = get_user_model()
PASSWORD = "kapcare-demo-2026"  # noqa: S105 (published demo password, CONTRACT.md)
DOMAIN = "demo.kapcare.test"

MEDICAL_GROUP = "Cascade Medical Group"
PRACTICE_A = "Riverside Therapy Collective"
PRACTICE_B = "Harbor Counseling"
DEMO_TIME_ZONE = "America/Los_Angeles"  # the demo patients live in California

# email, first, last, role, organization, licence number (clinicians)
STAFF = [
    ("prescriber", "Maya", "Okafor", User.Role.PRESCRIBER, MEDICAL_GROUP, "A-118204"),
    ("therapist", "Sam", "Rivera", User.Role.THERAPIST, PRACTICE_A, "LMFT-90311"),
    ("therapist2", "Jordan", "Lee", User.Role.THERAPIST, PRACTICE_B, "LCSW-77120"),
    ("therapist3", "Alex", "Chen", User.Role.THERAPIST, PRACTICE_A, "LPCC-4410"),
    ("coordinator", "Priya", "Natarajan", User.Role.COORDINATOR, MEDICAL_GROUP, None),
    # Issue 18: the supervising psychiatrist reviews the prescriber's signed work. No licence seeded, so referral
    # never assigns them patients: they reach records only through supervision grants.
    ("supervisor", "Ruth", "Adeyemi", User.Role.PRESCRIBER, MEDICAL_GROUP, None),
    ("admin", "Ada", "Admin", User.Role.ADMIN, None, None),
]

# first, last, e-mail (local part), date of birth, referring therapist, stage
PATIENTS = [
    ("Taylor", "Brooks", "patient", date(1986, 4, 12), "therapist", Stage.DOSING),
    ("Morgan", "Ellis", "morgan.ellis", date(1979, 9, 3), "therapist", Stage.REFERRED),
    ("Casey", "Nguyen", "casey.nguyen", date(1992, 1, 27), "therapist", Stage.INTAKE),
    ("Riley", "Patel", "riley.patel", date(1988, 6, 30), "therapist2", Stage.EVALUATION),
    ("Jamie", "Ortiz", "jamie.ortiz", date(1975, 11, 8), "therapist3", Stage.PREPARATION),
    ("Avery", "Thompson", "avery.thompson", date(1969, 2, 14), "therapist3", Stage.MAINTENANCE),
    ("Drew", "Kowalski", "drew.kowalski", date(1983, 8, 21), "therapist3", Stage.COMPLETED),
    # A completed course for each therapist (Drew's is Alex's), so every clinician's outcomes page has figures.
    ("Quinn", "Harper", "quinn.harper", date(1990, 3, 5), "therapist", Stage.COMPLETED),
    ("Robin", "Diaz", "robin.diaz", date(1981, 7, 19), "therapist2", Stage.COMPLETED),
]
# The demo patients live in California; their future sessions are booked at clinic hours, their time.
PACIFIC = ZoneInfo("America/Los_Angeles")
# Maya's weekly hours (her time): mornings and early afternoons, Monday to Friday.
PRESCRIBER_HOURS = [(time(9), time(12)), (time(13), time(16))]


def local_at(days, hour):
    """`days` from today at `hour` o'clock, California time."""
    return datetime.combine(timezone.localdate() + timedelta(days=days), time(hour), tzinfo=PACIFIC)


# Stages whose patients hold a signed evaluation, dose plan and sessions (treatment.course.services).
COURSE_STAGES = {Stage.PREPARATION, Stage.DOSING, Stage.MAINTENANCE, Stage.COMPLETED}
EVALUATION = {
    "bp_systolic": 122,
    "bp_diastolic": 78,
    "pulse": 70,
    "weight_kg": Decimal("74.5"),
    "psychiatric_assessment": "Recurrent major depression; three adequate trials without remission. No psychosis.",
    "medical_assessment": "Healthy adult; blood pressure controlled; no cardiovascular history.",
    "diagnosis": "Major depressive disorder, recurrent, moderate",
    "icd10_code": "F33.1",
    "decision": "eligible",
    "rationale": "Treatment-resistant depression with good therapeutic alliance and support at home.",
}
DOSE_PLAN = {
    "route": "sublingual_rdt",
    "tablet_strength_mg": Decimal("100.0"),
    "full_dose_mg": Decimal("200.0"),
    "start_at": "half",
    "boosters_allowed": True,
    "booster_count": 1,
    "booster_mg": Decimal("50.0"),
    "booster_min_minutes": 30,
    "doses_authorized": 6,
    "instructions_patient": "Nothing to eat for 4 hours before. Hold the tablets under your tongue 10 minutes; spit.",
    "instructions_therapist": "Pre-dose blood pressure; recheck at 40 minutes and before the booster.",
    "benzodiazepine_hold": "",
}
PRESCRIPTION = {
    "directions": "At each dosing session: 1 tablet under the tongue (2 from the second session), 1 more as the "
    "booster if the therapist agrees. Hold 10 minutes; spit.",
    "refills": 0,
    "days_supply": 42,
    "pharmacy_name": "Bayview Compounding Pharmacy",
    "pharmacy_address": "210 Mission St, San Francisco, CA 94105",
    "pharmacy_phone": "+1 415 555 0170",
    "pharmacy_ncpdp_id": "0567890",
    "channel": "printed",
    "telemedicine_attested": True,
}
FOLLOW_UP_NOTE = {
    "symptoms": "Mood and sleep much improved; back at work full time. Reports feeling more connected.",
    "sessions_review": "Three dosing sessions, each followed by integration; the therapist's summaries reviewed.",
    "side_effects": "Mild nausea after the first session only; no blood-pressure rise, no bladder symptoms.",
    "therapist_note": "Thank you: the integration summaries were very helpful.",
}
# Stages whose patients have joined the portal, submitted the intake and signed the consents.
PAST_FRONT_DOOR = {Stage.EVALUATION, Stage.PREPARATION, Stage.DOSING, Stage.MAINTENANCE, Stage.COMPLETED}

REFERRAL = {
    "reasons": ["trd"],
    "reason_details": "Recurrent depression; three adequate antidepressant trials without remission.",
    "current_diagnoses": "Major depressive disorder, recurrent, moderate",
    "current_treatment": "Weekly psychotherapy",
    "current_medications": "Sertraline 100 mg daily",
    "clinical_summary": "Engaged in therapy, stable housing, supportive partner. No psychosis or mania history.",
}
INTAKE = {
    **dict.fromkeys(MEDICAL_CONDITIONS, False),
    "psychosis": False,
    "schizophrenia_spectrum": False,
    "family_psychosis": False,
    "mania_or_bipolar": False,
    "suicide_attempt": False,
    "psychiatric_hospitalisation": False,
    "suicidal_thoughts": False,
    "personality_disorder": False,
    "takes_medications": True,
    "alcohol_drinks_per_week": 2,
    "can_abstain_alcohol_24h": True,
    "uses_cannabis": False,
    "uses_recreational_drugs": False,
    "substance_use_disorder": "none",
    "pregnant": False,
    "breastfeeding": False,
    "ivf": False,
    "allergies": "None known",
    "height_cm": 172,
    "weight_kg": Decimal("74.5"),
    "bp_systolic": 124,
    "bp_diastolic": 78,
    "pulse": 72,
    "has_support_person": True,
}
MEDICATIONS = [{"name": "Sertraline", "dose": "100 mg", "frequency": "daily"}]
# Riley, awaiting evaluation, shows the prescriber what screening flags look like.
FLAGGED_INTAKE = {**INTAKE, "bp_systolic": 148, "bp_diastolic": 94}
FLAGGED_MEDICATIONS = [*MEDICATIONS, {"name": "Lorazepam", "dose": "0.5 mg", "frequency": "as needed"}]


# Taylor's session notes (issue 5) and the summary of each integration session.
SESSION_NOTES = {
    "preparation": "Set intentions (grief for the father, self-criticism). Reviewed the dose plan, the checklist "
    "and what the experience may feel like. Patient calm and well prepared.",
    "dosing": "Dose taken as planned; vitals stayed in range. Tearful at the peak, then settled; spoke of the "
    "father's illness. Left alert and oriented with the partner driving.",
    "integration": "Reviewed the dosing session: a felt sense of forgiveness, less self-blame. Agreed on daily "
    "walks and calling the sister weekly.",
}
INTEGRATION_SUMMARY = {
    "themes": "Grief for the father; self-compassion.",
    "insights": "Sees the depression as having protected them from the grief rather than as a failing.",
    "changes": "Walking daily; calling the sister weekly; writing in the evenings.",
    "concerns_for_prescriber": "Mild headache the evening after the dose; sleep still broken on two nights a week.",
}
# The therapist's note on each integration summary they share, and the prescriber's answer (see _conversation).
CONVERSATION = [
    (
        "Summary of the first integration session; the headache is for you.",
        "Thanks, Sam. A mild headache that evening is common: water, and acetaminophen if needed. Plan unchanged.",
    ),
    (
        "Second integration: steadier, and sleeping better most nights.",
        "Good progress; PHQ-9 is down to 8. I will ask about sleep at the follow-up next week.",
    ),
]
# Taylor's questionnaires: days ago, PHQ-9 total, GAD-7 total. Baseline before the preparation session,
# then before each dosing session and since (dosing sessions 21 and 14 days ago, see _course).
SCORE_HISTORY = [(33, 19, 15), (22, 16, 13), (15, 11, 10), (8, 8, 7), (2, 6, 5)]
# The completed courses' histories: Taylor's, lower by this much (each ends in remission, PHQ-9 under 5).
COMPLETED_WITH_SCORES = (("drew.kowalski", 2), ("quinn.harper", 3), ("robin.diaz", 4))


def spread(total, count):
    """Answers (0-3) adding up to `total`, the last item (PHQ-9 item 9) left at 0 where possible."""
    answers = [0] * count
    for n in range(total):
        answers[n % (count - 1) if total <= 3 * (count - 1) else n % count] += 1
    return answers


def local_hour(moment, hour, tz=DEMO_TIME_ZONE):
    """`moment`'s day at `hour`:00 in the demo patients' time zone: sessions at clinic hours, not at 00:30."""
    local = moment.astimezone(ZoneInfo(tz))
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def front_door_at(stage):
    """When a demo patient was referred and did their intake: ahead of the evaluation that followed."""
    return evaluation_at(stage) - timedelta(days=10) if stage in COURSE_STAGES else timezone.now() - timedelta(hours=2)


def evaluation_at(stage):
    """When the prescriber signed the evaluation and dose plan: three days before the first session (24 days
    ago), so the first follow-up visit, due 30 days after it, falls due in a few days; or four days ago for a
    patient still preparing."""
    days_ago = 4 if stage == Stage.PREPARATION else 27
    return local_hour(timezone.now() - timedelta(days=days_ago), 15)


def on_the_clock(moment):
    """Run the services as at `moment`, so each record is stamped when it clinically happened (issue 16): the
    demo's past is not all dated the minute it was seeded. The clock stops, not ticks, while frozen."""
    return time_machine.travel(moment, tick=False)


def demo_email(local):
    return f"{local}@{DOMAIN}"


class Command(BaseCommand):
    help = "Create the demo organizations, accounts and patients (idempotent)."

    @transaction.atomic
    def handle(self, **options):
        # Each patient's due work is derived once, at the end and at the present time, rather than after every
        # service (many run with the clock moved back to when the history happened).
        with due_work.deferred():
            content.seed_current()  # consent documents and education, in case a test flushed them
            organizations = self._organizations()
            users = {local: self._user(local, *rest, organizations) for local, *rest in STAFF}
            created = 0
            for row in PATIENTS:
                created += self._patient(*row, users=users)
            self._score_history(users)
            self._conversation(users)
            self._visits(users)
            self._prescriptions(users)
            clinicians = [users[local] for local in ("prescriber", "therapist", "therapist2", "therapist3")]
            seed_network_demo(
                coordinator=users["coordinator"],
                clinicians=clinicians,
                facilitator=users["prescriber"],
                presenter=users["therapist"],
                patient=Patient.objects.get(email=demo_email("patient")),
            )
            seed_supervision_demo(
                coordinator=users["coordinator"], prescriber=users["prescriber"], supervisor=users["supervisor"]
            )
            # Issue 17: an approved applicant (Robin Hale, a therapist not yet trained) and a pending one.
            seed_applicants(
                coordinator=users["coordinator"], practice=organizations[PRACTICE_A], domain=DOMAIN, password=PASSWORD
            )
        if options["verbosity"] > 0:
            self.stdout.write(f"Demo data ready ({created} patients added).")
            self.stdout.write(self.logins())

    @staticmethod
    def _visits(users):
        """Maya publishes her hours; Taylor has booked the follow-up (due in a few days) and Riley the evaluation,
        each at the first open time."""
        schedule, created = Schedule.objects.get_or_create(
            clinician=users["prescriber"],
            defaults={
                "time_zone": "America/Los_Angeles",
                "location": "Cascade Medical Group, 400 Harbor Way, Suite 2",
                "video_link": "https://video.demo.kapcare.test/room/okafor",
            },
        )
        if created:
            for weekday in range(5):
                for start, end in PRESCRIBER_HOURS:
                    WeeklyHours.objects.create(schedule=schedule, weekday=weekday, start_time=start, end_time=end)
        for local, kind in (("patient", Visit.Kind.FOLLOW_UP), ("riley.patel", Visit.Kind.EVALUATION)):
            patient = Patient.objects.get(email=demo_email(local))
            if any(need.kind == kind for need in visit_selectors.to_book(patient)):
                slot = visit_selectors.open_slots(users["prescriber"], kind)[0]
                visit_services.visit_book(actor=patient.user, patient=patient, kind=kind, starts_at=slot)

    @staticmethod
    def _prescriptions(users):
        """Taylor's PDMP check and prescription for the rest of the plan (picked up), a CGI-S rating by Maya, and
        the group's office, where Sam works, with its controlled-substance log (a receipt, a waste Sam witnessed,
        a count that balances). Added once. After the DEA telemedicine flexibilities end (CarePolicy), the
        prescription needs an in-person visit first: skipped."""
        patient = Patient.objects.filter(email=demo_email("patient")).first()
        prescriber = users["prescriber"]
        if patient is None or Prescription.objects.filter(patient=patient).exists():
            return
        today = timezone.localdate()
        prescription_services.pdmp_check_record(
            actor=prescriber, patient=patient, checked_on=today, state=patient.state, result="no_concerns"
        )
        if today <= CarePolicy.for_group(patient.medical_group_id).telemedicine_flexibility_until:
            rx = prescription_services.prescription_issue(actor=prescriber, patient=patient, data=PRESCRIPTION)
            prescription_services.fill_record(actor=patient.user, prescription=rx, filled_on=today, method="pickup")
        questionnaire_services.questionnaire_submit(actor=prescriber, patient=patient, instrument="cgi_s", answers=[3])
        site, _ = StockSite.objects.get_or_create(
            medical_group=prescriber.organization,
            name="Cascade Medical Group office",
            defaults={"address": "400 Harbor Way, Suite 2"},
        )
        site.clinicians.add(users["therapist"])
        lot = {"site": site, "lot": "KX-2026-118"}
        stock.stock_receive(actor=prescriber, **lot, expires_on=today + timedelta(days=730), quantity_mg=5000)
        stock.stock_waste(
            actor=prescriber,
            **lot,
            quantity_mg=20,
            witness=users["therapist"],
            witness_password=PASSWORD,
            note="A drawn dose not given: the patient declined the booster.",
        )
        stock.stock_count(actor=prescriber, **lot, counted_mg=4980)

    @staticmethod
    def _conversation(users):
        """Taylor's care-team thread (the therapist shares each integration summary, the prescriber answers; the
        latest question still unread by the prescriber) and a question from Taylor to the therapist, through the
        messaging services. Added once: skipped when Taylor has any thread."""
        patient = Patient.objects.filter(email=demo_email("patient")).first()
        if patient is None or patient.user is None or Thread.objects.filter(patient=patient).exists():
            return
        sam, maya = users["therapist"], users["prescriber"]
        summaries = list(IntegrationSummary.objects.filter(patient=patient).select_related("session"))
        summaries.sort(key=lambda summary: summary.session.scheduled_at)
        posted = []
        for summary, (note, reply) in zip(summaries, CONVERSATION, strict=False):
            shared = messaging_services.message_share_integration_summary(actor=sam, summary=summary, note=note)
            posted.append((shared, summary.session.scheduled_at + timedelta(hours=3)))
            answer = messaging_services.message_send(actor=maya, patient=patient, body=reply)
            posted.append((answer, summary.session.scheduled_at + timedelta(hours=20)))
        question = messaging_services.message_send(
            actor=patient.user,
            patient=patient,
            body="Is it OK to keep journaling about my dad between sessions? It brings up a lot.",
            thread_kind=Thread.Kind.PATIENT,
            for_clinician=sam,
        )
        answer = messaging_services.message_send(
            actor=sam,
            patient=patient,
            body="Yes, keep going, gently. Stop if it feels like too much, and bring what comes up on Thursday.",
            thread_kind=Thread.Kind.PATIENT,
        )
        now = timezone.now()
        posted += [(question, now - timedelta(days=3, hours=5)), (answer, now - timedelta(days=3, hours=2))]
        for user in (sam, maya, patient.user):  # everything so far has been read
            for kind in Thread.Kind.values:
                messaging_services.thread_mark_read(actor=user, patient=patient, kind=kind)
        latest = messaging_services.message_send(
            actor=sam,
            patient=patient,
            body="Taylor asks whether the next dose can be at home, with their partner as chaperone. Any concerns?",
        )
        posted.append((latest, now - timedelta(hours=20)))
        # Demo data only: the services stamp a message with the time it is sent; this conversation lies in the past,
        # so its times are set afterwards (read an hour after sending). Real messages are never back-dated.
        for message, at in posted:
            Message.objects.filter(pk=message.pk).update(created_at=at)
            MessageRecipient.objects.filter(message=message, read_at__isnull=False).update(
                read_at=at + timedelta(hours=1)
            )
            Notification.objects.filter(message=message).update(created_at=at)

    @staticmethod
    def _score_history(users):
        """Taylor's PHQ-9 and GAD-7 over the course: high at baseline, improving across the dosing sessions
        (none with item 9 above 0, none rising); and the same shape, a little lower, for the patients whose courses
        completed (the outcomes pages' response and remission). Added once per patient: skipped when the
        patient already has responses."""
        now = timezone.now()
        for local, lower in (("patient", 0), *COMPLETED_WITH_SCORES):
            patient = Patient.objects.filter(email=demo_email(local)).first()
            if patient is None or patient.user is None or patient.questionnaire_responses.exists():
                continue
            for days_ago, phq9, gad7 in SCORE_HISTORY:
                for instrument, total, count in (("phq9", phq9 - lower, 9), ("gad7", gad7 - lower, 7)):
                    response = questionnaire_services.questionnaire_submit(
                        actor=patient.user, patient=patient, instrument=instrument, answers=spread(total, count)
                    )
                    # Demo data only: the service stamps a response with the time it is submitted; the history
                    # lies in the past, so its time is set afterwards. Real responses are never back-dated.
                    QuestionnaireResponse.objects.filter(pk=response.pk).update(
                        submitted_at=now - timedelta(days=days_ago, hours=2)
                    )

    @staticmethod
    def logins():
        lines = [f"Demo logins (password for all: {PASSWORD}):"]
        for local, _first, _last, role, org, _licence in STAFF:
            lines.append(f"  {demo_email(local):34} {role.label:13} {org or ''}")
        lines.append(f"  {demo_email('patient'):34} {'Patient':13} mid-course")
        lines.append(f"  {demo_email('applicant.approved'):34} {'Therapist':13} approved, not yet trained")
        lines.append(
            "  Other demo patients sign in the same way, e.g. casey.nguyen@ (intake) and riley.patel@ (evaluation)."
        )
        return "\n".join(lines)

    def _organizations(self):
        group, _ = Organization.objects.get_or_create(
            name=MEDICAL_GROUP, defaults={"kind": Organization.Kind.MEDICAL_GROUP}
        )
        practices = {
            name: Organization.objects.get_or_create(
                name=name, defaults={"kind": Organization.Kind.THERAPY_PRACTICE, "medical_group": group}
            )[0]
            for name in (PRACTICE_A, PRACTICE_B)
        }
        return {MEDICAL_GROUP: group, **practices}

    def _user(self, local, first, last, role, org_name, licence_number, organizations):
        email = demo_email(local)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=PASSWORD,
                first_name=first,
                last_name=last,
                role=role,
                organization=organizations.get(org_name),
                is_staff=role == User.Role.ADMIN,
                is_superuser=role == User.Role.ADMIN,
            )
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        if licence_number:
            self._credentials(user, role, licence_number)
        return user

    def _credentials(self, user, role, licence_number):
        """A licence in every state, KAP training, and for a prescriber a DEA registration in every state.

        The demo clinicians stand for a network that practises across states (as under the interstate
        compacts), so a referral or an evaluation tried with the demo accounts is never refused for the
        patient's state; the licence rules themselves are shown by the tests with single-state clinicians."""
        npi = "1" + "".join(c for c in licence_number if c.isdigit()).rjust(9, "0")
        ClinicianProfile.objects.get_or_create(user=user, defaults={"npi": npi, "approved_at": timezone.now()})
        verified = {"verified_at": timezone.now(), "verification_note": "Demo data: state board lookup."}
        expires = timezone.localdate() + timedelta(days=540)
        kind = Licence.Kind.MD if role == User.Role.PRESCRIBER else Licence.Kind.LMFT
        for state in USState.values:
            number = licence_number if state == "CA" else f"{licence_number}-{state}"
            Licence.objects.get_or_create(
                clinician=user, state=state, number=number, defaults={"expires_on": expires, "kind": kind, **verified}
            )
            if role == User.Role.PRESCRIBER:
                DEARegistration.objects.get_or_create(
                    clinician=user, state=state, number="BO1234563", defaults={"expires_on": expires, **verified}
                )
        KAPTraining.objects.get_or_create(
            clinician=user,
            defaults={"completed_on": date(2024, 3, 1), "provider": "KAP institute", "title": "KAP foundations"},
        )

    def _patient(self, first, last, local, born, therapist, stage, *, users):
        email = demo_email(local)
        if Patient.objects.filter(email=email).exists():
            return 0
        with on_the_clock(front_door_at(stage)):  # referral, portal, consents and intake, a while back
            patient = self._front_door(first, last, email, born, therapist, stage, users=users)
        # Signed on today's clock: the consent documents in force were published when the database was made.
        if stage == Stage.INTAKE:
            self._sign(patient, kinds=["kap_informed_consent"])
        elif stage in PAST_FRONT_DOOR:
            self._sign(patient)
        if stage in COURSE_STAGES:
            self._course(patient, stage, therapist=users[therapist], prescriber=users["prescriber"])
            if stage == Stage.DOSING:
                self._documentation(patient, therapist=users[therapist])
            patient.refresh_from_db()
        if patient.stage != stage:  # every stage is derived from the records made above, never set
            raise CommandError(f"Demo patient {first} reached the stage {patient.stage}, not {stage}.")
        return 1

    def _front_door(self, first, last, email, born, therapist, stage, *, users):
        patient = patient_services.patient_refer(
            actor=users[therapist],
            first_name=first,
            last_name=last,
            email=email,
            date_of_birth=born,
            state="CA",
            phone=f"+1 415 555 01{len(first) + len(last):02d}",
            referral=REFERRAL,
            invite=stage == Stage.REFERRED,
        )
        patient_services.prescriber_assign(actor=users["coordinator"], patient=patient, prescriber=users["prescriber"])
        if stage != Stage.REFERRED:
            self._join_portal(patient, first, last, email)
        if stage == Stage.INTAKE:
            assessment_services.intake_save_draft(actor=patient.user, patient=patient, data={"height_cm": 165})
        if stage in PAST_FRONT_DOOR:
            flagged = stage == Stage.EVALUATION
            patient_services.patient_update_profile(
                actor=patient.user,
                patient=patient,
                emergency_contact_name="Jordan Brooks" if first == "Taylor" else "A. Contact",
                emergency_contact_phone="+1 415 555 0199",
                emergency_contact_relationship="Partner",
                chaperone_name="Jordan Brooks" if first == "Taylor" else "A. Contact",
                chaperone_phone="+1 415 555 0199",
            )
            assessment_services.intake_submit(
                actor=patient.user,
                patient=patient,
                data=FLAGGED_INTAKE if flagged else INTAKE,
                medications=FLAGGED_MEDICATIONS if flagged else MEDICATIONS,
            )
            patient.refresh_from_db()
        return patient

    @staticmethod
    def _course(patient, stage, *, therapist, prescriber):
        """An eligible signed evaluation and a signed dose plan; past the preparation stage, a completed
        preparation session and dosing sessions each followed by an integration session, all through the
        services so every gate is passed as it would be in real use."""
        flags = ScreeningFlag.objects.filter(intake__patient=patient, intake__status="submitted")
        with on_the_clock(evaluation_at(stage)):  # signed before the first session
            evaluation = assessment_services.evaluation_save_draft(
                actor=prescriber,
                patient=patient,
                data=EVALUATION,
                flag_reviews=[{"flag": flag.pk, "outcome": "confirmed", "reason": ""} for flag in flags],
            )
            course_services.evaluation_sign_and_advance_course(actor=prescriber, evaluation=evaluation)
            plan = course_services.dose_plan_save_draft(actor=prescriber, patient=patient, data=DOSE_PLAN)
            course_services.dose_plan_sign(actor=prescriber, plan=plan)
        now = timezone.now()
        if stage == Stage.PREPARATION:
            session_services.session_schedule(
                actor=therapist, patient=patient, kind="preparation", scheduled_at=local_at(3, 10)
            )
            return
        doses = 2 if stage == Stage.DOSING else 3
        sessions = [("preparation", 24)]
        for n in range(doses):
            sessions += [("dosing", 21 - 7 * n), ("integration", 20 - 7 * n)]
        for n, (kind, days_ago) in enumerate(sessions):
            at = local_hour(now - timedelta(days=days_ago), 10)
            remote = kind == "dosing" and n == 3  # the second dose at home, on video with a chaperone
            with on_the_clock(at - timedelta(hours=20)):  # booked the day before, after the previous session
                session = session_services.session_schedule(
                    actor=therapist,
                    patient=patient,
                    kind=kind,
                    scheduled_at=at,
                    modality="remote" if remote else "in_person",
                    location="" if remote else "Suite 4, 210 Grove Street",
                    video_link="https://video.demo.kapcare.test/room/demo" if remote else "",
                    chaperone={"name": "Sam Brooks", "phone": "+1 415 555 0142"} if remote else None,
                )
            if kind == "dosing":
                with on_the_clock(at + timedelta(minutes=150)):  # documented as the session ends
                    Command._dosing_record(therapist, session, at=at, remote=remote)
            else:
                with on_the_clock(at + timedelta(hours=1)):
                    session_services.session_complete(actor=therapist, session=session)
        if stage == Stage.DOSING:  # the next dose, booked: every gate holds
            session_services.session_schedule(
                actor=therapist, patient=patient, kind="dosing", scheduled_at=local_at(2, 10)
            )
        # The first follow-up visit, planned when the evaluation was signed: Taylor's falls due in a few days
        # (as it would 30 days after an evaluation made a month ago); Avery's and Drew's took place and
        # decided maintenance and the end of the course.
        follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient)
        if stage == Stage.DOSING:
            course_services.follow_up_save_draft(
                actor=prescriber, follow_up=follow_up, data={"due_on": timezone.localdate() + timedelta(days=4)}
            )
            return
        maintenance = stage == Stage.MAINTENANCE
        note = {
            **FOLLOW_UP_NOTE,
            "decision": "maintenance" if maintenance else "complete",
            "next_follow_up_on": timezone.localdate() + timedelta(days=45) if maintenance else None,
            "rationale": "Sustained response after three sessions; maintenance dosing about every six weeks."
            if maintenance
            else "Remission after three sessions; the patient and both clinicians agree to end the course.",
        }
        with on_the_clock(now - timedelta(days=2)):  # the visit after the last integration session
            follow_up = course_services.follow_up_save_draft(actor=prescriber, follow_up=follow_up, data=note)
            course_services.follow_up_sign(actor=prescriber, follow_up=follow_up)

    @staticmethod
    def _dosing_record(therapist, session, *, at, remote):
        """A dosing session documented through the services: the checklist, pre-dose vitals in range, the plan's
        first dose, the peak reading, chaperone check-ins when remote, end vitals and criteria (completes it)."""
        items = session_services.checklist_items(session)
        session_services.checklist_confirm(actor=therapist, session=session, items=items)
        vitals = {"diastolic": 80, "spo2": 98, "taken_by": "chaperone" if remote else "therapist"}
        for phase, minutes, systolic, pulse in (("pre_dose", 0, 126, 74), ("peak", 45, 138, 84), ("end", 120, 128, 76)):
            if phase == "peak":
                session_services.dose_record(
                    actor=therapist,
                    session=session,
                    dose_mg=session.dose_plan.first_dose_mg,
                    taken_at=at + timedelta(minutes=5),
                )
            session_services.vitals_record(
                actor=therapist,
                session=session,
                phase=phase,
                systolic=systolic,
                pulse=pulse,
                taken_at=at + timedelta(minutes=minutes),
                **vitals,
            )
        if remote:
            for minutes in (20, 35, 50):
                session_services.check_in_record(
                    actor=therapist, session=session, checked_at=at + timedelta(minutes=minutes)
                )
        session_services.dosing_end(
            actor=therapist,
            session=session,
            criteria={"alert_and_oriented": True, "vitals_near_baseline": True, "safe_transport": True},
            ended_at=at + timedelta(minutes=150),
        )

    @staticmethod
    def _documentation(patient, *, therapist):
        """Taylor's session documentation, through the note services: each integration session's structured
        summary, every completed session's progress note signed except the latest integration's (a draft, so the
        dashboards show an unsigned note before the follow-up), and one private psychotherapy note."""
        sessions = list(TherapySession.objects.completed().filter(patient=patient).order_by("scheduled_at"))
        latest = sessions[-1]
        for session in sessions:
            if session.kind == TherapySession.Kind.INTEGRATION:
                note_services.integration_summary_save(actor=therapist, session=session, data=INTEGRATION_SUMMARY)
            with on_the_clock(session.scheduled_at + timedelta(hours=4)):  # written and signed that day
                note_services.note_save_draft(actor=therapist, session=session, body=SESSION_NOTES[session.kind])
                if session != latest:
                    note_services.note_sign(actor=therapist, session=session)
        note_services.psychotherapy_note_save(
            actor=therapist,
            session=sessions[1],
            body="My own process note: the grief for the father sat under everything today; watch my urge to rescue.",
        )

    @staticmethod
    def _join_portal(patient, first, last, email):
        """As accepting the invitation does: a verified patient account linked to the record."""
        account = User.objects.create_user(
            email=email, password=PASSWORD, first_name=first, last_name=last, role=User.Role.PATIENT
        )
        EmailAddress.objects.create(user=account, email=email, verified=True, primary=True)
        patient.user = account
        patient.save(update_fields=["user"])
        patient_services.patient_refresh_stage(patient=patient)

    @staticmethod
    def _sign(patient, kinds=None):
        for document in patient_selectors.outstanding_consents(patient):
            if kinds is None or document.kind in kinds:
                patient_services.consent_sign(
                    actor=patient.user, patient=patient, document=document, typed_name=patient.full_name
                )
