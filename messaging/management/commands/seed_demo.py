"""Demo data of CONTRACT.md. It lives in the topmost app because demo data spans every app.

Idempotent: whatever already exists is left as it is, so running it twice changes nothing.
"""

from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from kapcare.accounts.models import ClinicianProfile, Organization
from patients import services as patient_services
from patients.models import Patient, Stage

User = get_user_model()
PASSWORD = "kapcare-demo-2026"  # noqa: S105 (published demo password, CONTRACT.md)
DOMAIN = "demo.kapcare.test"

MEDICAL_GROUP = "Cascade Medical Group"
PRACTICE_A = "Riverside Therapy Collective"
PRACTICE_B = "Harbor Counseling"

# email, first, last, role, organization, licence number (clinicians)
STAFF = [
    ("prescriber", "Maya", "Okafor", User.Role.PRESCRIBER, MEDICAL_GROUP, "A-118204"),
    ("therapist", "Sam", "Rivera", User.Role.THERAPIST, PRACTICE_A, "LMFT-90311"),
    ("therapist2", "Jordan", "Lee", User.Role.THERAPIST, PRACTICE_B, "LCSW-77120"),
    ("therapist3", "Alex", "Chen", User.Role.THERAPIST, PRACTICE_A, "LPCC-4410"),
    ("coordinator", "Priya", "Natarajan", User.Role.COORDINATOR, MEDICAL_GROUP, None),
    ("admin", "Ada", "Admin", User.Role.ADMIN, None, None),
]

# first, last, e-mail (local part), date of birth, referring therapist, stage, has a portal account
PATIENTS = [
    ("Taylor", "Brooks", "patient", date(1986, 4, 12), "therapist", Stage.DOSING, True),
    ("Morgan", "Ellis", "morgan.ellis", date(1979, 9, 3), "therapist", Stage.REFERRED, False),
    ("Casey", "Nguyen", "casey.nguyen", date(1992, 1, 27), "therapist", Stage.INTAKE, False),
    ("Riley", "Patel", "riley.patel", date(1988, 6, 30), "therapist2", Stage.EVALUATION, False),
    ("Jamie", "Ortiz", "jamie.ortiz", date(1975, 11, 8), "therapist3", Stage.PREPARATION, False),
    ("Avery", "Thompson", "avery.thompson", date(1969, 2, 14), "therapist3", Stage.MAINTENANCE, False),
    ("Drew", "Kowalski", "drew.kowalski", date(1983, 8, 21), "therapist3", Stage.COMPLETED, False),
]


def demo_email(local):
    return f"{local}@{DOMAIN}"


class Command(BaseCommand):
    help = "Create the demo organizations, accounts and patients (idempotent)."

    @transaction.atomic
    def handle(self, **options):
        organizations = self._organizations()
        users = {local: self._user(local, *rest, organizations) for local, *rest in STAFF}
        created = 0
        for row in PATIENTS:
            created += self._patient(*row, users=users)
        if options["verbosity"] > 0:
            self.stdout.write(f"Demo data ready ({created} patients added).")
            self.stdout.write(self.logins())

    @staticmethod
    def logins():
        lines = [f"Demo logins (password for all: {PASSWORD}):"]
        for local, _first, _last, role, org, _licence in STAFF:
            lines.append(f"  {demo_email(local):34} {role.label:13} {org or ''}")
        lines.append(f"  {demo_email('patient'):34} {'Patient':13} mid-course")
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
            ClinicianProfile.objects.get_or_create(
                user=user,
                defaults={
                    "licence_state": "CA",
                    "licence_number": licence_number,
                    "licence_expires": timezone.localdate() + timedelta(days=540),
                    "npi": "1" + "".join(c for c in licence_number if c.isdigit()).rjust(9, "0"),
                    "dea_number": "BO1234563" if role == User.Role.PRESCRIBER else "",
                    "kap_training_completed": date(2024, 3, 1),
                },
            )
        return user

    def _patient(self, first, last, local, born, therapist, stage, has_account, *, users):
        email = demo_email(local)
        if Patient.objects.filter(email=email).exists():
            return 0
        patient = patient_services.patient_refer(
            actor=users[therapist],
            first_name=first,
            last_name=last,
            email=email,
            date_of_birth=born,
            state="CA",
            phone=f"+1 415 555 01{len(first) + len(last):02d}",
            invite=False,
        )
        patient_services.prescriber_assign(actor=users["coordinator"], patient=patient, prescriber=users["prescriber"])
        # Later issues move the stage through signed records; until then the demo sets it directly.
        patient.stage = stage
        if has_account:
            account = User.objects.create_user(
                email=email, password=PASSWORD, first_name=first, last_name=last, role=User.Role.PATIENT
            )
            EmailAddress.objects.create(user=account, email=email, verified=True, primary=True)
            patient.user = account
        patient.save(update_fields=["stage", "user"])
        return 1
