"""Reads of threads, messages and notifications; every one starts from kapcare.access.

For other apps and the reminders helper: `unread_for(user)` (the badge's count; `unread_badge` keeps it),
`unread_messages_for(user)` (message receipts still unread, oldest first) and
`users_with_unread_messages(older_than=...)` (whom a digest e-mail is for) are the public reads; none returns
patient data beyond ids."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat, Trim
from django.utils import timezone

from kapcare import access, caseload_cache, prepared
from kapcare.access import Permission
from patients import access as patient_access
from patients.access import visible_patients
from patients.models import CareTeamMember
from treatment.adverse_events import selectors as adverse_event_selectors
from treatment.course import selectors as course_selectors
from treatment.notes import selectors as note_selectors

from .models import Message, MessageRecipient, Notification, Thread

THREAD_PAGE_SIZE = 100
NOTIFICATION_PAGE_SIZE = 50

VIEW_PERMISSION = {
    Thread.Kind.CARE_TEAM: Permission.VIEW_CARE_TEAM_THREAD,
    Thread.Kind.PATIENT: Permission.VIEW_PATIENT_THREAD,
}
POST_PERMISSION = {
    Thread.Kind.CARE_TEAM: Permission.POST_CARE_TEAM_MESSAGE,
    Thread.Kind.PATIENT: Permission.POST_PATIENT_MESSAGE,
}


def thread_kinds_for(user):
    """The kinds of thread this user's role may read."""
    return [kind for kind, permission in VIEW_PERMISSION.items() if access.can(user, permission)]


def visible_messages(user):
    """Messages of the patients the user can see, of every kind of thread: callers check the thread's
    permission (VIEW_PERMISSION) before showing one, so a role refused gets 403 rather than 404."""
    return (
        Message.objects.filter(patient__in=visible_patients(user))
        .select_related("thread", "author", "for_clinician")
        .prefetch_related(Prefetch("recipients", queryset=MessageRecipient.objects.select_related("user")))
        .order_by("-created_at", "-id")
    )


def _for_api(messages):
    """Messages as the API shows them: their thread joined, the people's names from the database (no user rows
    built per message), receipts prefetched into `recipient_list` (a list: no related manager built per message),
    newest first."""
    full_name = Trim(Concat("author__first_name", Value(" "), "author__last_name"))
    for_name = Trim(Concat("for_clinician__first_name", Value(" "), "for_clinician__last_name"))
    receipts = MessageRecipient.objects.select_related("user")
    return (
        messages.select_related("thread")
        .prefetch_related(Prefetch("recipients", queryset=receipts, to_attr="recipient_list"))
        .annotate(
            author_name=Case(When(author__isnull=True, then=Value("KAPCare")), default=full_name),
            author_role=Coalesce("author__role", Value("system")),
            for_clinician_name=Case(When(for_clinician__isnull=False, then=for_name), default=None),
        )
        .order_by("-created_at", "-id")
    )


def messages_for_api(user):
    """visible_messages(user) as the API shows them."""
    return _for_api(Message.objects.filter(patient__in=patient_access.visible_patients(user)))


def _thread_messages(patient_id, kind):
    return Message.objects.filter(thread__patient_id=patient_id, thread__kind=kind)


def _thread_page(key, values):
    kind, offset, limit = key
    # The receipts come from _RECEIPTS below: Django's prefetch builds a query over the page's messages each time.
    return _for_api(_thread_messages(values.patient_id, kind)).prefetch_related(None)[offset : offset + limit]


RECEIPTS_PREPARED = 50  # the API's page size, unless the caller asks for more


def _receipts(ids):
    return MessageRecipient.objects.filter(message_id__in=ids).select_related("user")


def _thread_count(key, values):
    count = Func(F("id"), function="COUNT")  # not an aggregate to Django: no GROUP BY
    return _thread_messages(values.patient_id, key).order_by().annotate(n=count).values_list("n", flat=True)


# Built once per thread kind (and page) (kapcare.prepared): the API's list of one patient's messages.
_THREAD_PAGE = prepared.Prepared(_thread_page, slots={"patient_id": uuid.UUID})
_THREAD_COUNT = prepared.Prepared(_thread_count, slots={"patient_id": uuid.UUID})
_RECEIPTS = prepared.PreparedForIds(_receipts, RECEIPTS_PREPARED)


class ThreadMessages:
    """One thread's messages as the API shows them, newest first, for a Paginator: a slice is two queries, the
    messages and their receipts (`recipient_list`, as _for_api's prefetch gives it)."""

    def __init__(self, patient, kind):
        self.patient_id, self.kind = patient.pk, kind

    def __getitem__(self, window):
        offset = window.start or 0
        messages = _THREAD_PAGE((self.kind, offset, window.stop - offset), patient_id=self.patient_id)
        receipts = _RECEIPTS([message.pk for message in messages])
        by_message = {}
        for receipt in receipts:  # in the receipts' own order, as the prefetch gives them
            by_message.setdefault(receipt.message_id, []).append(receipt)
        for message in messages:
            message.recipient_list = by_message.get(message.pk, [])
        return messages


def thread_messages_for_api(patient, kind):
    """(messages, how many) of one thread of a patient that came from kapcare.access (so already visible), as
    the API shows them: through the thread's index, with no pass over the caller's other patients, and counted
    without the joins the names need."""
    return ThreadMessages(patient, kind), _THREAD_COUNT(kind, patient_id=patient.pk)[0]


def readable_messages(user):
    """Messages the user may read: of visible patients, in threads their role may read."""
    return visible_messages(user).filter(thread__kind__in=thread_kinds_for(user))


# Threads ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseEvent:
    """A course event merged into the care-team thread from the course timeline; not stored as a message."""

    at: datetime
    title: str
    detail: str = ""
    is_event: bool = True


@dataclass
class ThreadPage:
    patient: object
    kind: str
    messages: list = field(default_factory=list)
    entries: list = field(default_factory=list)  # messages and course events, oldest first
    unread_ids: set = field(default_factory=set)  # messages this user had not read before opening the thread
    team: list = field(default_factory=list)  # the active care team, for "for whom" and receipts
    can_post: bool = False
    can_share: bool = False
    older_hidden: bool = False

    @property
    def is_care_team(self):
        return self.kind == Thread.Kind.CARE_TEAM


def active_team(patient):
    return list(
        CareTeamMember.objects.active().filter(patient=patient).select_related("clinician").order_by("role", "id")
    )


def team_clinician(patient, clinician_id):
    """The clinician with this id on the patient's active care team, or None."""
    members = CareTeamMember.objects.active().filter(patient=patient, clinician_id=clinician_id)
    member = members.select_related("clinician").first()
    return member.clinician if member else None


def thread_page(user, patient, kind, *, course_events=(), team=None) -> ThreadPage:
    """The latest messages of one thread with their receipts, and `course_events` (TimelineEvent-like objects
    with `at`, `title`, `detail`) merged in by time. `patient` comes from kapcare.access; the caller has
    checked VIEW_PERMISSION[kind]. `team`: the active care team when the caller has it loaded already.
    A fixed number of queries."""
    rows = list(visible_messages(user).filter(patient=patient, thread__kind=kind)[: THREAD_PAGE_SIZE + 1])
    older_hidden = len(rows) > THREAD_PAGE_SIZE
    messages = list(reversed(rows[:THREAD_PAGE_SIZE]))
    unread = {
        message.pk
        for message in messages
        for recipient in message.recipients.all()
        if recipient.user_id == user.pk and recipient.read_at is None
    }
    _attach_latest_shares(messages)
    since = messages[0].created_at if older_hidden and messages else None
    events = [
        CourseEvent(event.at, event.title, event.detail)
        for event in course_events
        if event.at is not None and (since is None or event.at >= since)
    ]
    entries = sorted([*messages, *events], key=lambda entry: entry.created_at if hasattr(entry, "pk") else entry.at)
    return ThreadPage(
        patient=patient,
        kind=kind,
        messages=messages,
        entries=entries,
        unread_ids=unread,
        team=active_team(patient) if team is None else team,
        can_post=access.can(user, POST_PERMISSION[kind]),
        can_share=kind == Thread.Kind.CARE_TEAM and access.can(user, Permission.POST_CARE_TEAM_MESSAGE),
        older_hidden=older_hidden,
    )


def _attach_latest_shares(messages):
    """Each shared card gets `latest_share`: the newest version of the same record in the thread (itself when
    none is newer). The page holds the newest messages, so a newer version of any card on it is on it too."""
    latest = {}
    for message in messages:
        if message.source_id:
            key = (message.source_type, message.source_id)
            if key not in latest or message.source_version > latest[key].source_version:
                latest[key] = message
    for message in messages:
        message.latest_share = latest.get((message.source_type, message.source_id), message)


# Unread counts ----------------------------------------------------------------------------------------


def _unread_receipts(user):
    return MessageRecipient.objects.filter(user=user, read_at__isnull=True, patient__in=visible_patients(user))


@dataclass
class Unread:
    care_team: int = 0
    patient: int = 0

    @property
    def total(self):
        return self.care_team + self.patient

    @property
    def thread_kind(self):
        """The thread to open first: the care team's when it has unread messages."""
        return Thread.Kind.CARE_TEAM if self.care_team else Thread.Kind.PATIENT


def unread_count_subqueries(user) -> dict:
    """{thread kind: a subquery counting the messages sent to this user in that kind of thread and not yet read,
    about the outer query's patient (OuterRef("pk"))}: a dashboard page's counts as annotations of the page's own
    query. The outer query's patients come from kapcare.access. Each count walks message_recipient_unread."""
    receipts = MessageRecipient.objects.filter(user=user, read_at__isnull=True, patient=OuterRef("pk")).order_by()
    return {
        kind: Coalesce(
            Subquery(
                receipts.filter(message__thread__kind=kind).annotate(n=Func(F("id"), function="COUNT")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        )
        for kind in Thread.Kind.values
    }


def unread_message_count(user) -> int:
    """Messages sent to this user, in any thread, that they have not read. One query."""
    return _unread_receipts(user).count()


def unread_messages_for(user):
    """The unread receipts of this user, oldest first, with their message: for digests (ids, times, kinds)."""
    return _unread_receipts(user).select_related("message").order_by("message__created_at", "id")


def users_with_unread_messages(*, older_than=None):
    """Users who have a message unread for longer than `older_than` (a timedelta): whom a "you have a new
    message" e-mail or digest is for. The e-mail names no patient. One query."""
    receipts = MessageRecipient.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
    if older_than is not None:
        receipts = receipts.filter(message__created_at__lte=timezone.now() - older_than)
    return get_user_model().objects.filter(Exists(receipts), is_active=True)


def urgent_waiting_for(user):
    """Urgent messages sent to this user that they have not acknowledged, oldest first."""
    return list(
        readable_messages(user)
        .filter(urgent=True, recipients__user=user, recipients__acknowledged_at__isnull=True)
        .select_related("patient")
        .order_by("created_at", "id")
    )


# Notifications ----------------------------------------------------------------------------------------


def visible_notifications(user):
    """The user's own notifications, about patients they can still see (or about no patient)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    # The patients' ids from the care-team index (patients.access.visible_patient_ids), not a semi-join over every
    # patient: the badge's COUNT on every page costs about half the Python.
    return Notification.objects.filter(
        Q(patient__isnull=True) | Q(patient_id__in=patient_access.visible_patient_ids(user)), recipient=user
    ).order_by("-created_at", "-id")


def unread_for(user) -> int:
    """The user's unread notifications. One COUNT query."""
    return visible_notifications(user).filter(read_at__isnull=True).count()


def unread_badge(user) -> int:
    """The badge of every page: unread_for, kept in kapcare.caseload_cache (the services that make or read a
    notification record the change for its recipients). One cache read; the COUNT when it changed."""
    return caseload_cache.summaries(user, badge_summary(user))["notifications"]


def badge_summary(user) -> dict:
    """unread_badge's summary, for a page that reads it with its own (caseload_cache.summaries)."""
    return {"notifications": lambda: unread_for(user)}


def notifications_for_list(user, *, limit=NOTIFICATION_PAGE_SIZE):
    return list(visible_notifications(user).select_related("patient", "message__author")[:limit])


# Records a clinician can share to the care-team thread ---------------------------------------------------


@dataclass(frozen=True)
class Shareable:
    kind: str  # a Message.Kind
    record: object
    label: str
    detail: str
    url_name: str
    shared: bool
    changed_since_shared: bool = False  # an integration summary edited since: shared again as a new version


def shareable_records(user, patient) -> list[Shareable]:
    """The patient's integration summaries, side-effect reports and signed dose plans this clinician can share
    to the care-team thread, newest first, each saying whether it is shared already. A fixed number of queries."""
    if not access.can(user, Permission.POST_CARE_TEAM_MESSAGE):
        return []
    shared = {}  # (type, id) -> when its latest version was shared
    for source_type, source_id, at in (
        Message.objects.filter(thread__patient=patient, thread__kind=Thread.Kind.CARE_TEAM)
        .exclude(source_id="")
        .values_list("source_type", "source_id", "created_at")
    ):
        shared[(source_type, source_id)] = max(at, shared.get((source_type, source_id), at))

    def is_shared(record):
        return (record._meta.label_lower, str(record.pk)) in shared

    def changed_since_shared(record):
        at = shared.get((record._meta.label_lower, str(record.pk)))
        return at is not None and record.updated_at > at

    items = []
    if access.can(user, Permission.VIEW_SESSION_NOTE):
        summaries = note_selectors.visible_integration_summaries(user).filter(patient=patient).order_by("-created_at")
        for summary in summaries:
            items.append(
                Shareable(
                    Message.Kind.INTEGRATION_SUMMARY,
                    summary,
                    "Integration summary",
                    f"session of {timezone.localtime(summary.session.scheduled_at):%b %-d}",
                    "messaging:share-integration-summary",
                    is_shared(summary),
                    changed_since_shared(summary),
                )
            )
    if access.can(user, Permission.VIEW_ADVERSE_EVENTS):
        for event in adverse_event_selectors.adverse_events_of_patient(user, patient):
            items.append(
                Shareable(
                    Message.Kind.SIDE_EFFECT_REPORT,
                    event,
                    f"Side effect: {event.get_kind_display().lower()}",
                    f"{event.get_severity_display().lower()}, reported {timezone.localtime(event.reported_at):%b %-d}",
                    "messaging:share-side-effect",
                    is_shared(event),
                )
            )
    if access.can(user, Permission.VIEW_DOSE_PLAN):
        for plan in course_selectors.visible_dose_plans(user).filter(patient=patient, signed_at__isnull=False):
            items.append(
                Shareable(
                    Message.Kind.DOSE_CHANGE,
                    plan,
                    f"Dose plan version {plan.version}",
                    f"{plan.full_dose_mg} mg, signed {timezone.localtime(plan.signed_at):%b %-d}",
                    "messaging:share-dose-plan",
                    is_shared(plan),
                )
            )
    return items
