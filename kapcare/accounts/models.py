import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from kapcare.us_states import USState


class Organization(models.Model):
    class Kind(models.TextChoices):
        THERAPY_PRACTICE = "therapy_practice", "Therapy practice"
        MEDICAL_GROUP = "medical_group", "Medical group"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A therapy practice refers its clients to one medical group for evaluation and prescribing.
    medical_group = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referring_practices",
        limit_choices_to={"kind": Kind.MEDICAL_GROUP},
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True, role=User.Role.ADMIN)
        return self._create(email, password, **fields)


class User(AbstractUser):
    class Role(models.TextChoices):
        PATIENT = "patient", "Patient"
        THERAPIST = "therapist", "Therapist"
        PRESCRIBER = "prescriber", "Prescriber"
        COORDINATOR = "coordinator", "Coordinator"
        ADMIN = "admin", "Administrator"

    CLINICIAN_ROLES = (Role.THERAPIST, Role.PRESCRIBER)
    STAFF_ROLES = (Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.ADMIN)

    username = None
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("e-mail address", unique=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self):
        return self.get_full_name() or self.email

    @property
    def is_clinician(self):
        return self.role in self.CLINICIAN_ROLES

    @property
    def is_patient(self):
        return self.role == self.Role.PATIENT

    @property
    def is_staff_role(self):
        """Clinicians, coordinators and admins: the roles held to a second factor and a 15-minute idle limit."""
        return self.role in self.STAFF_ROLES


class ClinicianProfile(models.Model):
    """What identifies a clinician beyond the account. Their credentials (licences, DEA registrations, KAP
    training) are lists of their own below: the facts the signing and referral rules read.

    `approved_at` is the network's approval (network.joining writes it when a coordinator approves the
    application): until then the clinician cannot refer, be assigned or sign."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="clinician_profile")
    npi = models.CharField("NPI", max_length=10, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return str(self.user)

    @property
    def is_approved(self):
        return self.approved_at is not None


class Credential(models.Model):
    """A credential with an expiry, and who verified it against what (a registry lookup, a document)."""

    expires_on = models.DateField()
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verification_note = models.CharField(
        max_length=300, blank=True, help_text="What it was verified against: a registry lookup, a document."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def is_current(self, today=None):
        return self.expires_on >= (today or timezone.localdate())

    @property
    def is_verified(self):
        return self.verified_at is not None


class Licence(Credential):
    """A state licence to practise. A clinician may hold several (one per state, or more)."""

    class Kind(models.TextChoices):
        MD = "md", "Physician (MD)"
        DO = "do", "Physician (DO)"
        NP = "np", "Nurse practitioner"
        PA = "pa", "Physician assistant"
        PSYCHOLOGIST = "psychologist", "Psychologist"
        LMFT = "lmft", "Marriage and family therapist (LMFT)"
        LCSW = "lcsw", "Clinical social worker (LCSW)"
        LPC = "lpc", "Professional counselor (LPC)"
        OTHER = "other", "Other"

    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="licences")
    state = models.CharField(max_length=2, choices=USState.choices)
    number = models.CharField(max_length=50)
    kind = models.CharField("type", max_length=20, choices=Kind.choices, blank=True)

    class Meta:
        ordering = ["state", "-expires_on"]
        constraints = [
            models.UniqueConstraint(fields=["clinician", "state", "number"], name="licence_once_per_clinician")
        ]
        indexes = [
            models.Index(fields=["state", "expires_on"], name="licence_state_expiry"),
            # Licences expiring soon, any state (the credential reminder): bench/NOTES.md has the EXPLAIN.
            models.Index(fields=["expires_on"], name="licence_expiry"),
        ]

    def __str__(self):
        return f"{self.state} licence {self.number}"


class DEARegistration(Credential):
    """A DEA registration to prescribe controlled substances (ketamine is Schedule III), held per state."""

    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="dea_registrations")
    state = models.CharField(max_length=2, choices=USState.choices)
    number = models.CharField("DEA number", max_length=9)

    class Meta:
        verbose_name = "DEA registration"
        ordering = ["state", "-expires_on"]
        constraints = [
            models.UniqueConstraint(fields=["clinician", "state", "number"], name="dea_registration_once_per_state")
        ]

    def __str__(self):
        return f"{self.state} DEA {self.number}"


class KAPTraining(models.Model):
    """Completed training in ketamine-assisted psychotherapy: the network requires it to practise."""

    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="kap_trainings")
    completed_on = models.DateField()
    provider = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    certificate_number = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "KAP training"
        ordering = ["-completed_on"]

    def __str__(self):
        return f"{self.title} ({self.provider}, {self.completed_on})"


class ReferralStateException(models.Model):
    """A coordinator's documented exception: the therapist may refer clients living in a state their licences
    do not cover (for example practice under an interstate compact). Kept, with who granted it and why."""

    therapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="referral_state_exceptions")
    state = models.CharField(max_length=2, choices=USState.choices)
    reason = models.TextField(max_length=2000)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="referral_state_exception_has_reason"),
        ]

    def __str__(self):
        return f"Referral exception for {self.therapist} in {self.state}"


class ApiToken(models.Model):
    """The name and creator of a knox API token; knox keeps only its hash, owner and expiry.

    Made only by the owner (the "API tokens" page) or by `manage.py issue_api_token`, through
    kapcare.accounts.services; never in the admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    auth_token = models.OneToOneField("knox.AuthToken", on_delete=models.CASCADE, related_name="details")
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name
