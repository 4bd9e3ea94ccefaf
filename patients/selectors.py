"""Reads of patients for views and the API; every one starts from kapcare.access."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from kapcare import access, caseload_cache, prepared
from kapcare.accounts import credentials

from . import access as patient_access
from .access import only_openable_alerts, visible_patients, visible_reconciliations
from .models import (
    AlertRole,
    AssignmentNeed,
    CareTeamMember,
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    DueItem,
    EducationModule,
    EducationProgress,
    IdentityChange,
    ReferralReconciliation,
    SafetyAlert,
    SafetyAlertAcknowledgement,
    SafetyAlertRecipient,
    Stage,
)


def active_team_prefetch():
    return Prefetch(
        "care_team",
        queryset=CareTeamMember.objects.active().select_related("clinician").order_by("role", "active_from"),
        to_attr="active_team",
    )


def _team_rows(ids):
    return (
        CareTeamMember.objects.active()
        .filter(patient_id__in=ids)
        .order_by("role", "active_from")
        .values_list("patient_id", "role", "clinician__first_name", "clinician__last_name", "clinician__email")
    )


# Built once per process (kapcare.prepared): every dashboard page's care teams.
_TEAM_ROWS = prepared.PreparedForIds(_team_rows)


def active_teams_for_patients(patient_ids) -> dict:
    """{patient id: [(clinician's name, role label), ...]} of each patient's active care team, in the order of
    active_team_prefetch, in one query of values rather than member and user instances. The caller has already
    scoped the ids through kapcare.access."""
    rows = _TEAM_ROWS(patient_ids)
    labels = dict(CareTeamMember.Role.choices)
    teams = {}
    for patient_id, role, first_name, last_name, email in rows:
        name = f"{first_name} {last_name}".strip() or email  # User.__str__
        teams.setdefault(patient_id, []).append((name, labels.get(role, role)))
    return teams


def patients_for_list(user):
    """The user's patients in name order, with their active care team, in a fixed number of queries."""
    return visible_patients(user).for_list().prefetch_related(active_team_prefetch())


# The dashboards' patient list: search, filters and sorting ---------------------------------------------

_STAGE_ORDER = Case(*(When(stage=stage, then=Value(n)) for n, stage in enumerate(Stage.values)), default=Value(99))
PATIENT_LIST_SORTS = {
    "name": ("Name, A to Z", ("last_name", "first_name", "id")),
    "-name": ("Name, Z to A", ("-last_name", "-first_name", "-id")),
    "stage": ("Stage of care", (_STAGE_ORDER, "last_name", "first_name", "id")),
    "state": ("US state", ("state", "last_name", "first_name", "id")),
    "newest": ("Newest referral first", ("-created_at", "-id")),
}
SEARCH_TERMS_USED = 5


@dataclass(frozen=True)
class PatientListQuery:
    """What a dashboard's patient list asks for, already validated: each field narrows the list."""

    search: str = ""  # words, each found in the first name, last name or e-mail address
    stage: str = ""
    state: str = ""
    clinician_id: object = None  # on the patient's active care team
    alert_open_for_me: bool = False  # an alert still waiting for this user's acknowledgement
    follow_up_overdue: bool = False  # a follow-up visit past its due day
    sort: str = "name"


def patient_list(user, query: PatientListQuery, *, today=None):
    """patients_for_list narrowed and ordered by `query`: one queryset, so a page is one query and its
    count one more, whatever the filters."""
    patients = patients_for_list(user)
    for term in query.search.split()[:SEARCH_TERMS_USED]:
        patients = patients.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
        )
    if query.stage:
        patients = patients.filter(stage=query.stage)
    if query.state:
        patients = patients.filter(state=query.state)
    if query.clinician_id:
        team = CareTeamMember.objects.active().filter(patient=OuterRef("pk"), clinician_id=query.clinician_id)
        patients = patients.filter(Exists(team))
    if query.alert_open_for_me:
        waiting = SafetyAlert.objects.filter(patient=OuterRef("pk")).filter(_open_for(user))
        patients = patients.filter(Exists(waiting))
    if query.follow_up_overdue:
        overdue = DueItem.objects.open().filter(
            patient=OuterRef("pk"), kind=DueItem.Kind.FOLLOW_UP, due_on__lt=today or timezone.localdate()
        )
        patients = patients.filter(Exists(overdue))
    return patients.order_by(*PATIENT_LIST_SORTS[query.sort][1])


def care_team_clinicians(user):
    """The clinicians on the active care teams of the user's patients, by name: the choices of the patient
    list's clinician filter. One query."""
    teams = CareTeamMember.objects.active().filter(patient_id__in=patient_access.visible_patient_ids(user))
    clinicians = get_user_model().objects.filter(pk__in=teams.values("clinician_id")).exclude(pk=user.pk)
    return list(clinicians.order_by("last_name", "first_name", "id"))


def patients_for_api(user):
    """The user's patients as the API shows them: no care team, the referral in the same query."""
    return visible_patients(user).for_list().select_related("referral")


API_LIST_COLUMNS = ("id", "first_name", "last_name", "email", "date_of_birth", "phone", "state", "time_zone", "stage")
# The API's list in name order, only the columns it shows: each page one prepared query (kapcare.prepared).
_API_PAGES = prepared.UserPages(lambda user: patient_access.visible_patients(user).for_list().only(*API_LIST_COLUMNS))


def patient_list_for_api(user):
    """(the pages for a Paginator, how many) for the API's list. The count is the dashboard's, from
    kapcare.caseload_cache (a clinician's from the care-team index: kapcare.access.visible_patient_count)."""
    return _API_PAGES.of(user), caseload_cache.summaries(user, patient_count_summary(user))["patients"]


def patient_count_summary(user) -> dict:
    """How many patients the user has, as a kapcare.caseload_cache summary: the dashboard reads it with its other
    counts, the API's list alone (one cached value for both)."""
    return {"patients": lambda: patient_access.visible_patient_count(user)}


def patient_for_chart(user, patient_id, *, action):
    """One visible patient with their care team, or 404 (audited)."""
    patients = patients_for_list(user).select_related("referral", "referred_by", "medical_group")
    return access.get_visible(patients, patient_id, user=user, action=action)


def prescriber_for_new_patient(patient):
    """A prescriber of the patient's medical group cleared to sign in the patient's state (approved, trained,
    current verified licence and DEA registration there), with the fewest active patients; None when the group
    has no such prescriber."""
    values = {"medical_group_id": patient.medical_group_id, "today": timezone.localdate()}
    if patient.medical_group_id is None:  # a NULL is no slot's value (`IS NULL`, not `= %s`): built as it is
        found = list(_prescriber_for_new_patient(patient.state, SimpleNamespace(**values)))
    else:
        found = _PRESCRIBER_FOR_NEW_PATIENT(patient.state, **values)
    return found[0] if found else None


def _prescriber_for_new_patient(state, values):
    User = get_user_model()
    active = Q(care_teams__active_to__isnull=True) | Q(care_teams__active_to__gt=timezone.now())
    group = values.medical_group_id
    prescribers = User.objects.filter(role=User.Role.PRESCRIBER, is_active=True, organization_id=group)
    return (
        credentials.cleared_to_sign(prescribers, state, values.today)
        .annotate(caseload=Count("care_teams", filter=active))
        .order_by("caseload", "last_name", "id")[:1]
    )


# Every referral asks it (three EXISTS, a join and a filtered count: about 3 ms to build): built once per state.
_PRESCRIBER_FOR_NEW_PATIENT = prepared.Prepared(
    _prescriber_for_new_patient, slots={"medical_group_id": uuid.UUID, "today": date}
)


# Consent and education ------------------------------------------------------------------------


class ConsentState(models.TextChoices):
    SIGNED = "signed", "Signed"
    NEEDS_RESIGN = "needs_resign", "New version to sign"
    NOT_SIGNED = "not_signed", "Not signed"


@dataclass(frozen=True)
class ConsentStatus:
    """Where one patient stands with one kind of consent, against its current version."""

    document: ConsentDocument  # the current version
    state: str  # a ConsentState
    signed_version: int | None = None  # the latest version the patient signed
    signed_at: datetime | None = None
    # Set when that signature came within the hour after the patient's e-mail address was changed, or from the
    # portal account opened after that change (patients.services._email_change_to_flag).
    email_changed_at: datetime | None = None

    @property
    def kind(self):
        return self.document.kind

    @property
    def label(self):
        return self.document.get_kind_display()

    @property
    def required(self):
        return self.document.required

    @property
    def outstanding(self):
        """A required document the patient still has to sign at its current version."""
        return self.required and self.state != ConsentState.SIGNED

    def get_state_display(self):
        return ConsentState(self.state).label


def _kind_order(document):
    kinds = list(ConsentKind.values)
    return kinds.index(document.kind) if document.kind in kinds else len(kinds)


def current_consent_documents():
    """The current (latest published) version of each kind of consent, in a fixed order. One query."""
    return sorted(ConsentDocument.objects.current(), key=_kind_order)


def outstanding_consents(patient):
    """The current required consent documents the patient has not signed at their current version."""
    signed = ConsentSignature.objects.filter(patient=patient, document=OuterRef("pk"))
    documents = ConsentDocument.objects.current().filter(required=True).exclude(Exists(signed))
    return sorted(documents, key=_kind_order)


def consent_status_for_patients(patient_ids):
    """{patient id: [ConsentStatus per current kind]} for many patients, in two queries whatever their number.
    The caller has already scoped the ids through kapcare.access."""
    patient_ids = list(patient_ids)
    documents = current_consent_documents()
    latest = {}  # (patient id, kind) -> (version, signed_at) of the highest version signed
    if patient_ids:  # asked even without documents, so a page costs the same queries always
        signatures = ConsentSignature.objects.filter(
            patient_id__in=patient_ids, document__kind__in=[d.kind for d in documents]
        ).values_list("patient_id", "document__kind", "document__version", "signed_at", "email_changed_at")
        for patient_id, kind, version, signed_at, email_changed_at in signatures:
            key = (patient_id, kind)
            if key not in latest or version > latest[key][0]:
                latest[key] = (version, signed_at, email_changed_at)
    statuses = {}
    for patient_id in patient_ids:
        rows = []
        for document in documents:
            version, signed_at, email_changed_at = latest.get((patient_id, document.kind), (None, None, None))
            if version is None:
                state = ConsentState.NOT_SIGNED
            elif version >= document.version:
                state = ConsentState.SIGNED
            else:
                state = ConsentState.NEEDS_RESIGN
            rows.append(
                ConsentStatus(
                    document=document,
                    state=state,
                    signed_version=version,
                    signed_at=signed_at,
                    email_changed_at=email_changed_at,
                )
            )
        statuses[patient_id] = rows
    return statuses


def outstanding_consent_count(now):
    """A subquery of how many current required consents the outer query's patient (OuterRef("pk")) has signed at
    no version as new: ConsentStatus.outstanding, counted in SQL for a page of patients at once."""
    signed = ConsentSignature.objects.filter(
        patient=OuterRef(OuterRef("pk")), document__kind=OuterRef("kind"), document__version__gte=OuterRef("version")
    )
    unsigned = (
        ConsentDocument.objects.current(now)
        .filter(required=True)
        .exclude(Exists(signed))
        .order_by()
        .annotate(n=Func(F("id"), function="COUNT"))  # not an aggregate to Django: no GROUP BY
        .values("n")
    )
    return Subquery(unsigned, output_field=IntegerField())


def consent_status(patient):
    """[ConsentStatus] of one patient, one per current kind of consent."""
    return consent_status_for_patients([patient.pk])[patient.pk]


def consent_document_for_patient(document_id):
    """A published consent document (current or replaced), or None. Drafts are never shown."""
    return ConsentDocument.objects.published().filter(pk=document_id).first()


def consent_signature(patient, document):
    return ConsentSignature.objects.filter(patient=patient, document=document).first()


def consent_signatures_for_list(user):
    """Signatures of the patients the user may see (metadata only), newest first."""
    return (
        ConsentSignature.objects.filter(patient__in=visible_patients(user))
        .select_related("document")
        .order_by("-signed_at", "-id")
    )


def education_modules():
    return EducationModule.objects.filter(active=True).order_by("order", "id")


def education_progress(patient):
    """The active education modules, each with `read_at` (None when not yet read). One query."""
    read = EducationProgress.objects.filter(patient=patient, module=OuterRef("pk")).values("read_at")[:1]
    return list(education_modules().annotate(read_at=Subquery(read)))


def education_module(slug):
    return education_modules().filter(slug=slug).first()


def education_read_at(patient, module):
    return EducationProgress.objects.filter(patient=patient, module=module).values_list("read_at", flat=True).first()


def own_patient_record(user):
    """The signed-in patient's own record, or None when the account is not linked to one yet."""
    return visible_patients(user).filter(user=user).first()


# Safety alerts ------------------------------------------------------------------------------------


def _open_for(user):
    """An expression: the alert waits for this user now. A clinician: nobody has acknowledged it in their role
    (they hold it on the care team of a visible patient). A coordinator: escalated to them, still waiting for
    a clinician, and not acknowledged by them."""
    if not user.is_authenticated:
        return Value(False)
    if user.role in user.CLINICIAN_ROLES:
        return ~Exists(SafetyAlertAcknowledgement.objects.filter(alert=OuterRef("pk"), role=user.role))
    if user.role == user.Role.COORDINATOR:
        escalated = SafetyAlertRecipient.objects.filter(
            alert=OuterRef("pk"), clinician=user, role=AlertRole.COORDINATOR
        )
        mine = SafetyAlertAcknowledgement.objects.filter(alert=OuterRef("pk"), clinician=user)
        still_open = SafetyAlert.objects.open().filter(pk=OuterRef("pk"))
        return Exists(escalated) & ~Exists(mine) & Exists(still_open)
    return Value(False)


def visible_safety_alerts(user):
    """Alerts about the user's patients, each with `open_for_me` (waiting for the user's acknowledgement now),
    open-for-me first then newest; recipients and acknowledgements in two more queries. Callers check
    require_safety_alert for one alert and narrow lists with patient_access_openable: a patient
    reaches their record but not these, a coordinator only what was escalated to them."""
    return (
        SafetyAlert.objects.filter(patient__in=visible_patients(user))
        .annotate(open_for_me=ExpressionWrapper(_open_for(user), output_field=models.BooleanField()))
        .select_related("patient")
        .prefetch_related(
            Prefetch("recipients", queryset=SafetyAlertRecipient.objects.select_related("clinician")),
            Prefetch("acknowledgements", queryset=SafetyAlertAcknowledgement.objects.select_related("clinician")),
        )
        .order_by("-open_for_me", "-raised_at", "-id")
    )


def openable_safety_alerts(user):
    """The alerts the user may open (patient_access_openable), annotated as visible_safety_alerts."""
    return only_openable_alerts(user, visible_safety_alerts(user))


PATIENT_NAME_FIELDS = ("patient__id", "patient__first_name", "patient__last_name")


def _open_alert_rows(key, values):
    shape, limit = key
    user = prepared.user_of(shape, values)
    return (
        SafetyAlert.objects.filter(patient_id__in=patient_access.visible_patient_ids(user))
        .filter(_open_for(user))
        .select_related("patient")
        # What the panel shows: the alert and its patient's name (the columns cost more than the rows).
        .only("id", "patient_id", "kind", "severity", "reason", "raised_at", *PATIENT_NAME_FIELDS)
        .order_by("-raised_at", "-id")[:limit]
    )


# Built once per role and limit (kapcare.prepared): every clinical dashboard shows the panel.
_OPEN_ALERT_ROWS = prepared.Prepared(_open_alert_rows, slots=prepared.USER_SLOTS)


def open_safety_alerts_for(user, *, limit=50):
    """The alerts still waiting for this user's acknowledgement, newest first, in one query."""
    if not user.is_authenticated or not access.can(user, access.Permission.ACKNOWLEDGE_SAFETY_ALERT):
        return []
    return _OPEN_ALERT_ROWS((prepared.user_shape(user), limit), **prepared.user_values(user))


def safety_alerts_for_chart(user, patient):
    """The patient's alerts the user may open, each with `role_rows` (per clinician role, its acknowledgement
    or None) from the prefetched acknowledgements. Three queries."""
    return list(openable_safety_alerts(user).filter(patient=patient))


# Identity changes and referral reconciliation ------------------------------------------------------

IDENTITY_CHANGES_SHOWN = 50


def alert_kinds_raised_by(source) -> set:
    """The kinds of safety alert a record (a questionnaire response, an adverse event...) raised."""
    alerts = SafetyAlert.objects.filter(source_type=source._meta.label_lower, source_id=str(source.pk))
    return set(alerts.values_list("kind", flat=True))


def identity_changes(user, patient):
    """The latest changes to the patient's name, date of birth, e-mail, phone and state, with the values before
    and after, newest first. `patient` comes from kapcare.access; the role is checked here (403, audited)."""
    access.require(user, access.Permission.VIEW_IDENTITY_CHANGES, patient)
    return IdentityChange.objects.filter(patient=patient).select_related("changed_by").order_by("-changed_at", "-id")


def reconciliations_for_list(user, *, status=ReferralReconciliation.Status.PENDING):
    """Referrals of known addresses waiting for (or resolved by) the user's medical group, oldest first."""
    entries = visible_reconciliations(user).select_related("existing_patient", "referred_by", "resolved_by")
    return entries.filter(status=status) if status else entries


def _assignment_rows(user, limit):
    needs = (
        AssignmentNeed.objects.open()
        .filter(patient__in=patient_access.visible_patients(user))
        .select_related("patient", "clinician")
    )
    return needs[:limit] if limit else needs


# Built once per role and limit (kapcare.prepared): the coordinator's dashboard shows it on every visit.
_ASSIGNMENT_ROWS = prepared.Prepared(
    lambda key, values: _assignment_rows(prepared.user_of(key[0], values), key[1]), slots=prepared.USER_SLOTS
)


def assignment_queue(user, *, limit=None):
    """The patients of the coordinator's medical group waiting for a clinician on their care team, oldest first."""
    if not access.can(user, access.Permission.VIEW_ASSIGNMENT_QUEUE):
        return []
    return _ASSIGNMENT_ROWS((prepared.user_shape(user), limit), **prepared.user_values(user))
