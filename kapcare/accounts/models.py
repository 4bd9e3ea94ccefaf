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
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="clinician_profile")
    licence_state = models.CharField(max_length=2, choices=USState.choices)
    licence_number = models.CharField(max_length=50)
    licence_expires = models.DateField()
    npi = models.CharField("NPI", max_length=10, blank=True)
    dea_number = models.CharField("DEA number", max_length=9, blank=True, help_text="Prescribers only.")
    kap_training_completed = models.DateField("KAP training completed", null=True, blank=True)

    def __str__(self):
        return f"{self.user} ({self.licence_state} {self.licence_number})"

    @property
    def licence_is_current(self):
        return self.licence_expires >= timezone.localdate()


class ApiToken(models.Model):
    """The name and creator of a knox API token; knox keeps only its hash, owner and expiry.

    Made only by the owner (the "API tokens" page) or by `manage.py issue_api_token`, through
    kapcare.accounts.services; never in the admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    auth_token = models.OneToOneField("knox.AuthToken", on_delete=models.CASCADE, related_name="details")
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name
