"""THE access policy. Nothing else in KAPCare decides who may see or do what.

Two questions, asked in this order:
1. Is the patient visible to the user at all? `patients.access.visible_patients(user)` answers with a
   queryset; every view and API looks objects up through it (`get_visible`), so an outsider gets 404 and
   learns nothing. The scopes live next to the models they filter (patients.access, and psychotherapy notes
   in treatment), so this module imports no app above kapcare.
2. May the user's role do this to a patient they can see? `require(user, permission)` raises
   PermissionDenied (403) with a reason a person understands.

Rules (ARCHITECTURE.md, "The access spine"):
- a therapist or prescriber reaches a patient only through an active care-team membership;
- a coordinator reaches the patients of their own medical group, without clinical note bodies;
- a patient reaches only their own record;
- an administrator manages accounts and organizations and reaches no patient record.
"""

from enum import Enum
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record

Role = User.Role


class Permission(Enum):
    VIEW_PATIENT = "view_patient"
    CHANGE_PATIENT = "change_patient"
    REFER_PATIENT = "refer_patient"
    VIEW_ACCESS_HISTORY = "view_access_history"
    VIEW_NOTE_BODY = "view_note_body"
    SIGN_CONSENT = "sign_consent"
    VIEW_CONSENT_STATUS = "view_consent_status"
    MARK_EDUCATION_READ = "mark_education_read"
    VIEW_REFERRAL_DETAIL = "view_referral_detail"
    ASSIGN_PRESCRIBER = "assign_prescriber"
    ASSIGN_THERAPIST = "assign_therapist"
    INVITE_PATIENT = "invite_patient"
    EDIT_OWN_PROFILE = "edit_own_profile"
    EDIT_INTAKE = "edit_intake"
    VIEW_INTAKE_DETAIL = "view_intake_detail"
    VIEW_SCREENING_FLAGS = "view_screening_flags"
    VIEW_SCREENING_SUMMARY = "view_screening_summary"
    VIEW_EVALUATION = "view_evaluation"
    WRITE_EVALUATION = "write_evaluation"
    VIEW_COURSE = "view_course"
    VIEW_DOSE_PLAN = "view_dose_plan"
    WRITE_DOSE_PLAN = "write_dose_plan"
    VIEW_SESSIONS = "view_sessions"
    SCHEDULE_SESSION = "schedule_session"
    COMPLETE_SESSION = "complete_session"
    CHANGE_SESSION = "change_session"
    VIEW_CHECKLIST = "view_checklist"
    CONFIRM_CHECKLIST = "confirm_checklist"
    VIEW_DOSING_RECORD = "view_dosing_record"
    RECORD_DOSING = "record_dosing"
    VIEW_FOLLOW_UP = "view_follow_up"
    WRITE_FOLLOW_UP = "write_follow_up"
    VIEW_SESSION_NOTE = "view_session_note"
    VIEW_DOCUMENTATION_STATE = "view_documentation_state"
    WRITE_SESSION_NOTE = "write_session_note"
    WRITE_PSYCHOTHERAPY_NOTE = "write_psychotherapy_note"
    VIEW_SAFETY_ALERTS = "view_safety_alerts"
    ACKNOWLEDGE_SAFETY_ALERT = "acknowledge_safety_alert"
    VIEW_ADVERSE_EVENTS = "view_adverse_events"
    REPORT_ADVERSE_EVENT = "report_adverse_event"
    SUBMIT_QUESTIONNAIRE = "submit_questionnaire"
    VIEW_QUESTIONNAIRES = "view_questionnaires"
    VIEW_CARE_TEAM_THREAD = "view_care_team_thread"
    POST_CARE_TEAM_MESSAGE = "post_care_team_message"
    ACKNOWLEDGE_MESSAGE = "acknowledge_message"
    VIEW_PATIENT_THREAD = "view_patient_thread"
    POST_PATIENT_MESSAGE = "post_patient_message"
    VIEW_REMINDERS = "view_reminders"
    EXPORT_RECORD = "export_record"
    RELEASE_RECORD = "release_record"
    VIEW_CREDENTIALS = "view_credentials"
    GRANT_REFERRAL_EXCEPTION = "grant_referral_exception"
    VIEW_IDENTITY_CHANGES = "view_identity_changes"
    RECONCILE_REFERRAL = "reconcile_referral"
    VIEW_SESSION_CHANGE_REASON = "view_session_change_reason"
    VIEW_VISITS = "view_visits"
    BOOK_VISIT = "book_visit"
    KEEP_SCHEDULE = "keep_schedule"
    KEEP_CALENDAR_FEED = "keep_calendar_feed"
    VIEW_OUTCOMES = "view_outcomes"
    EXPORT_RESEARCH = "export_research"
    VIEW_PRESCRIPTIONS = "view_prescriptions"
    WRITE_PRESCRIPTION = "write_prescription"
    RECORD_FILL = "record_fill"
    KEEP_CONTROLLED_LOG = "keep_controlled_log"
    MANAGE_STOCK_SITES = "manage_stock_sites"
    VIEW_TRAINING = "view_training"
    MANAGE_COURSES = "manage_courses"
    ENROL_IN_COURSE = "enrol_in_course"
    VERIFY_TRAINING = "verify_training"
    VIEW_CONSULTATION = "view_consultation"
    MANAGE_CONSULTATION_GROUPS = "manage_consultation_groups"
    VIEW_PRESENTATIONS = "view_presentations"
    PRESENT_CASE = "present_case"
    VIEW_ASSIGNMENT_QUEUE = "view_assignment_queue"
    REVIEW_APPLICATION = "review_application"
    ASSIGN_SUPERVISOR = "assign_supervisor"
    VIEW_SUPERVISION = "view_supervision"


class Rule(NamedTuple):
    roles: frozenset
    action: str  # what a refusal is audited as
    reason: str  # what a refused user is told


# Which roles may do each thing to a patient they can already see.
RULES = {
    Permission.VIEW_PATIENT: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Your role cannot open patient records.",
    ),
    Permission.CHANGE_PATIENT: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Only the patient's clinicians and the medical group's coordinators can change these details.",
    ),
    Permission.REFER_PATIENT: Rule(
        frozenset({Role.THERAPIST}),
        AuditEvent.Action.CREATE,
        "Only a therapist can refer a patient.",
    ),
    Permission.VIEW_ACCESS_HISTORY: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.READ,
        "The access history is shown to the patient and the clinicians on their care team.",
    ),
    # The referral's clinical content is for the clinicians; coordinators see the stage and who is on the team.
    Permission.VIEW_REFERRAL_DETAIL: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "The referral's clinical details are shown to the patient's clinicians only.",
    ),
    Permission.ASSIGN_PRESCRIBER: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Only a coordinator of the medical group can assign a prescriber.",
    ),
    # Matching a patient with a therapist (or a new one) is the coordinator's work (kap-domain.md, actors).
    Permission.ASSIGN_THERAPIST: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Only a coordinator of the medical group can assign a therapist.",
    ),
    Permission.INVITE_PATIENT: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "Only the patient's care team or a coordinator can send an invitation.",
    ),
    Permission.EDIT_OWN_PROFILE: Rule(
        frozenset({Role.PATIENT}),
        AuditEvent.Action.UPDATE,
        "The profile is kept by the patient; the care team changes details on the chart.",
    ),
    # A consent is signed by the patient in person; nobody signs on their behalf.
    Permission.SIGN_CONSENT: Rule(
        frozenset({Role.PATIENT}),
        AuditEvent.Action.CREATE,
        "Only the patient can sign their consent.",
    ),
    # Which consents are signed, at which version and when, is care coordination, not clinical content:
    # the coordinator sees it too. The consent texts themselves are not patient data.
    Permission.VIEW_CONSENT_STATUS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Consent status is shown to the patient, their clinicians and the medical group's coordinators.",
    ),
    Permission.MARK_EDUCATION_READ: Rule(
        frozenset({Role.PATIENT}),
        AuditEvent.Action.CREATE,
        "Only the patient can mark their education as read.",
    ),
    Permission.VIEW_NOTE_BODY: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Coordinators see that a note exists, not what it says.",
    ),
    # The intake is the patient's own account; a clinician on the care team may fill it in with or for
    # the patient (for example on a call). Coordinators schedule, they do not write medical history.
    Permission.EDIT_INTAKE: Rule(
        frozenset({Role.PATIENT, Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.UPDATE,
        "Only the patient and the clinicians on their care team can fill in the intake.",
    ),
    # Intake answers are clinical detail: the patient (their own) and their clinicians. A coordinator sees
    # whether the intake is submitted and how many screening flags it raised (VIEW_SCREENING_SUMMARY).
    Permission.VIEW_INTAKE_DETAIL: Rule(
        frozenset({Role.PATIENT, Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "Coordinators see the intake's status and flag count, not the patient's answers.",
    ),
    # Screening flags are a clinical judgement in progress: never shown to the patient as a verdict.
    Permission.VIEW_SCREENING_FLAGS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "Screening flags are shown to the clinicians on the care team; the prescriber discusses them with the patient.",
    ),
    Permission.VIEW_SCREENING_SUMMARY: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "How many screening flags an intake raised is shown to the care team and the medical group's coordinators.",
    ),
    # The evaluation is the prescriber's clinical judgement: the clinicians on the team read it; coordinators and
    # the patient see its outcome as the course's stage.
    Permission.VIEW_EVALUATION: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "The prescriber's evaluation is shown to the clinicians on the care team.",
    ),
    # Medical oversight: eligibility is decided, signed and amended by the prescriber on the team, nobody else.
    Permission.WRITE_EVALUATION: Rule(
        frozenset({Role.PRESCRIBER}),
        AuditEvent.Action.UPDATE,
        "Only the prescriber on this care team can write or sign an evaluation.",
    ),
    # Stage, dates and the dose ledger's numbers: care coordination, shown to everyone who sees the patient.
    Permission.VIEW_COURSE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.PATIENT}),
        AuditEvent.Action.READ,
        "The course of care is shown to the patient, their clinicians and the medical group's coordinators.",
    ),
    # The dose plan is a prescription: the prescriber writes it and the therapist runs sessions by it.
    Permission.VIEW_DOSE_PLAN: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "The dose plan is shown to the clinicians on the care team; the patient gets their instructions from them.",
    ),
    Permission.WRITE_DOSE_PLAN: Rule(
        frozenset({Role.PRESCRIBER}),
        AuditEvent.Action.UPDATE,
        "Only the prescriber on this care team can write or sign a dose plan.",
    ),
    # When sessions are (kind, time, status): the patient needs their own; coordinators schedule.
    Permission.VIEW_SESSIONS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Sessions are shown to the patient, their clinicians and the medical group's coordinators.",
    ),
    Permission.SCHEDULE_SESSION: Rule(
        frozenset({Role.THERAPIST, Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "Sessions are scheduled by the therapist on the care team or a coordinator of the medical group.",
    ),
    # Only the clinician who sat with the patient can say a session took place.
    Permission.COMPLETE_SESSION: Rule(
        frozenset({Role.THERAPIST}),
        AuditEvent.Action.UPDATE,
        "Only the therapist on this care team can mark a session completed.",
    ),
    # Moving, cancelling or recording a no-show is scheduling: the therapist on the team or a coordinator.
    Permission.CHANGE_SESSION: Rule(
        frozenset({Role.THERAPIST, Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Sessions are rescheduled or cancelled by the therapist on the care team or a coordinator of the medical "
        "group.",
    ),
    # The pre-dosing checklist (fasting, ride home, chaperone, benzodiazepine hold) is the patient's own
    # preparation: the patient and the clinicians see it; coordinators see the schedule, not this.
    Permission.VIEW_CHECKLIST: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.READ,
        "The pre-dosing checklist is shown to the patient and the clinicians on their care team.",
    ),
    Permission.CONFIRM_CHECKLIST: Rule(
        frozenset({Role.PATIENT, Role.THERAPIST}),
        AuditEvent.Action.CREATE,
        "The pre-dosing checklist is confirmed by the patient, or by the therapist with the patient in the session.",
    ),
    # Vitals, the dose, boosters, check-ins and the end of the session: clinical record of the dosing session.
    Permission.VIEW_DOSING_RECORD: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "The dosing record (vitals, doses, check-ins) is shown to the clinicians on the care team.",
    ),
    # Only the clinician running the session records what happens in it.
    Permission.RECORD_DOSING: Rule(
        frozenset({Role.THERAPIST}),
        AuditEvent.Action.CREATE,
        "Only the therapist on this care team records vitals, doses and check-ins in a dosing session.",
    ),
    # The follow-up visit is the prescriber's clinical note: the clinicians on the team read it (the therapist
    # sees the decision and what the prescriber asks of them); the patient and coordinators see the stage.
    Permission.VIEW_FOLLOW_UP: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "Follow-up visits are shown to the clinicians on the care team.",
    ),
    # Medical oversight: only the prescriber on the team writes and signs a follow-up (it may authorize doses).
    Permission.WRITE_FOLLOW_UP: Rule(
        frozenset({Role.PRESCRIBER}),
        AuditEvent.Action.UPDATE,
        "Only the prescriber on this care team can write or sign a follow-up visit.",
    ),
    # Session documentation (issue 5, point 4). The progress note and the integration summary are the team's
    # clinical record: the clinicians read them. Coordinators chase missing documentation, so they see whether
    # a session's note is written and signed, never what it says; the patient sees their sessions, not notes.
    Permission.VIEW_SESSION_NOTE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "Session notes are shown to the clinicians on the care team; coordinators see only whether one is signed.",
    ),
    Permission.VIEW_DOCUMENTATION_STATE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "Whether a session is documented is shown to the care team and the medical group's coordinators.",
    ),
    # The clinician who sat with the patient documents the session.
    Permission.WRITE_SESSION_NOTE: Rule(
        frozenset({Role.THERAPIST}),
        AuditEvent.Action.UPDATE,
        "Only the therapist on this care team can write or sign a session's notes.",
    ),
    # A psychotherapy note is its author's alone: no role reads another's (visible_psychotherapy_notes).
    Permission.WRITE_PSYCHOTHERAPY_NOTE: Rule(
        frozenset({Role.THERAPIST}),
        AuditEvent.Action.CREATE,
        "Only a therapist on the care team can keep a psychotherapy note.",
    ),
    # Safety alerts are a clinical risk signal routed to the clinicians, who must act on it. The patient is
    # not shown alerts about themself: a list of risk flags is not care, and the moment of risk is met in
    # the portal with crisis resources (988, emergency services) when they answer. A coordinator sees no
    # clinical content, except an alert escalated to them (unacknowledged after 4 hours): they open and
    # acknowledge what they are sent (safety_alert_role below), and only that.
    Permission.VIEW_SAFETY_ALERTS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "Safety alerts are shown to the therapist and the prescriber on the care team.",
    ),
    # An alert waits for the patient's therapist and prescriber as they are now; each acknowledges with the
    # action they took, in their role. A coordinator acknowledges an escalation as the coordinator.
    Permission.ACKNOWLEDGE_SAFETY_ALERT: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Only the patient's therapist and prescriber (or a coordinator it was escalated to) can acknowledge a "
        "safety alert.",
    ),
    # Side effects are clinical but not private notes: the patient sees the reports about themself.
    Permission.VIEW_ADVERSE_EVENTS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Side-effect reports are shown to the patient and the clinicians on their care team.",
    ),
    # Who saw it happen reports it: the therapist who sat with the patient, or the patient at home.
    Permission.REPORT_ADVERSE_EVENT: Rule(
        frozenset({Role.THERAPIST, Role.PATIENT}),
        AuditEvent.Action.CREATE,
        "Side effects are reported by the therapist on the care team or by the patient.",
    ),
    # Questionnaires (PHQ-9, GAD-7, ...) are the patient's own account of their symptoms: the patient answers
    # for themself, or a clinician on the team enters the answers for them (recorded as on their behalf).
    Permission.SUBMIT_QUESTIONNAIRE: Rule(
        frozenset({Role.PATIENT, Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.CREATE,
        "Questionnaires are answered by the patient or entered for them by the clinicians on their care team.",
    ),
    # Scores are clinical: the patient sees their own, the clinicians their team's; coordinators see none.
    Permission.VIEW_QUESTIONNAIRES: Rule(
        frozenset({Role.PATIENT, Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "Questionnaire scores are shown to the patient and the clinicians on their care team.",
    ),
    # Messaging (issue 7). The care-team thread is the clinicians' working conversation: integration summaries,
    # side effects, dose changes. It is clinical content, so coordinators (no clinical note bodies) and the
    # patient do not read it; the patient has their own thread with the team.
    Permission.VIEW_CARE_TEAM_THREAD: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "The care-team thread is between the patient's therapist and prescriber.",
    ),
    Permission.POST_CARE_TEAM_MESSAGE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.CREATE,
        "Only the therapist and the prescriber on the care team can write in the care-team thread.",
    ),
    # An urgent message is acknowledged by each clinician it went to; nobody acknowledges for another.
    Permission.ACKNOWLEDGE_MESSAGE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.UPDATE,
        "Only the clinicians an urgent message went to can acknowledge it.",
    ),
    # The patient's thread: the patient and their clinicians. What a patient writes is clinical (symptoms,
    # how a session felt), so the medical group's coordinators do not read it either.
    Permission.VIEW_PATIENT_THREAD: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Messages with the patient are shown to the patient and the clinicians on their care team.",
    ),
    Permission.POST_PATIENT_MESSAGE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.CREATE,
        "Only the patient and the clinicians on their care team can write in the patient's thread.",
    ),
    # The reminder delivery log (issue 7): which kind of reminder went to whom, when, and why one failed. It
    # holds no clinical content, and making sure reminders reach people is the coordinator's work; the patient
    # gets their reminders, not the log of everyone's.
    Permission.VIEW_REMINDERS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "The reminder delivery log is shown to the care team and the medical group's coordinators.",
    ),
    # Records that leave (issue 20). The patient's right of access (HIPAA, 45 CFR 164.524) covers their whole
    # designated record set, so their own copy holds more than the portal shows them day to day (dose plans,
    # signed notes, the evaluation); psychotherapy notes and the care-team thread never leave. The clinicians on
    # the team produce the same copy for a release; coordinators read no clinical content, so they export none.
    Permission.EXPORT_RECORD: Rule(
        frozenset({Role.PATIENT, Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "A copy of the record is made for the patient themself or by the clinicians on their care team.",
    ),
    # A release sends the record to someone outside the care team: a clinician on the team prepares it, on the
    # patient's signed authorization; the patient downloads their own copy instead.
    Permission.RELEASE_RECORD: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.CREATE,
        "A release of information is prepared by the therapist or the prescriber on the care team.",
    ),
    Permission.VIEW_CREDENTIALS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "Credentials are shown to each clinician and to their medical group's coordinators.",
    ),
    Permission.GRANT_REFERRAL_EXCEPTION: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "Only a coordinator of the medical group records an exception to the referral licence rule.",
    ),
    # Changes to who the patient is (name, date of birth, e-mail, phone, state), with the values before and
    # after: everyone who sees the record, so a redirected identity is noticed by the team and the patient.
    Permission.VIEW_IDENTITY_CHANGES: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Changes to a patient's details are shown to the patient, their clinicians and the medical group's "
        "coordinators.",
    ),
    # Why a session was cancelled, moved or missed is free text about the patient's life (illness, crisis,
    # relapse): the clinicians read it; coordinators see that it was cancelled and when, the patient their times.
    Permission.VIEW_SESSION_CHANGE_REASON: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "The reason a session was cancelled, moved or missed is shown to the clinicians on the care team.",
    ),
    # Prescriber visits (issue 19): when they are is care coordination, like sessions. The patient books their
    # own from open slots; the prescriber and the group's coordinators book, move or cancel for them.
    Permission.VIEW_VISITS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Visits are shown to the patient, their clinicians and the medical group's coordinators.",
    ),
    Permission.BOOK_VISIT: Rule(
        frozenset({Role.PATIENT, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "Visits are booked, moved or cancelled by the patient, the prescriber on the team or a coordinator.",
    ),
    # Each clinician keeps their own weekly hours, dates off and time zone; nobody keeps another's.
    Permission.KEEP_SCHEDULE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.UPDATE,
        "Working hours are kept by each clinician for themself.",
    ),
    # A private calendar feed of one's own visits and sessions: the clinicians and the patient.
    Permission.KEEP_CALENDAR_FEED: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.CREATE,
        "Calendar feeds are for the clinicians and the patients: the people with visits and sessions.",
    ),
    # Prescriptions (issue 21): the patient sees their own (what to pick up, how to take it), the clinicians
    # their team's; coordinators see no clinical detail. Only the prescriber on the team writes, cancels or
    # attests the PDMP check; the medicine in hand (pickup, delivery) is recorded by the patient or a clinician.
    Permission.VIEW_PRESCRIPTIONS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PATIENT}),
        AuditEvent.Action.READ,
        "Prescriptions are shown to the patient and the clinicians on their care team.",
    ),
    Permission.WRITE_PRESCRIPTION: Rule(
        frozenset({Role.PRESCRIBER}),
        AuditEvent.Action.CREATE,
        "Only the prescriber on this care team can prescribe, cancel a prescription or attest a PDMP check.",
    ),
    Permission.RECORD_FILL: Rule(
        frozenset({Role.PRESCRIBER, Role.THERAPIST, Role.PATIENT}),
        AuditEvent.Action.CREATE,
        "The medicine picked up or delivered is recorded by the patient or the clinicians on their care team.",
    ),
    # A site's controlled-substance log (receipts, administrations, witnessed waste, counts) is kept by the
    # medical group's prescribers and the clinicians working at the site; patients and coordinators never see it
    # (visible_stock_sites). Coordinators add the group's sites and say who works there, without reading the log.
    Permission.KEEP_CONTROLLED_LOG: Rule(
        frozenset({Role.PRESCRIBER, Role.THERAPIST}),
        AuditEvent.Action.CREATE,
        "The controlled-substance log is kept by the medical group's prescribers and the clinicians of the site.",
    ),
    Permission.MANAGE_STOCK_SITES: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "The medical group's sites are added by its coordinators.",
    ),
    # A referral of an address KAPCare already knows waits for a coordinator of the medical group, who checks
    # whether it is the same person (the referring therapist joins the team) or declines it.
    Permission.RECONCILE_REFERRAL: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Referrals of addresses already on record are reconciled by the medical group's coordinators.",
    ),
    # Outcomes (issue 18): figures over the patients one may see (a clinician their own, a coordinator the
    # group's); never a patient, who has a chart of their own. The de-identified research export is the
    # coordinator's, for the network.
    Permission.VIEW_OUTCOMES: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "Outcomes across patients are shown to clinicians (for their own patients) and coordinators.",
    ),
    Permission.EXPORT_RESEARCH: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "The de-identified research export is made by the medical group's coordinators.",
    ),
    # The network (issue 17): training and peer consultation. None of it is patient data, except what a case
    # presentation is made from, and that is read through the presenter's own access (PRESENT_CASE below).
    Permission.VIEW_TRAINING: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "Courses and transcripts are for the network's clinicians and the medical group's coordinators.",
    ),
    Permission.MANAGE_COURSES: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "Only a coordinator of the medical group adds courses to the catalogue.",
    ),
    Permission.ENROL_IN_COURSE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.CREATE,
        "Only a therapist or a prescriber enrols in a course and records its completion.",
    ),
    # A completion gates practice once verified (the network's KAP training), so nobody verifies their own.
    Permission.VERIFY_TRAINING: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Only a coordinator of the medical group verifies a completed course against its certificate.",
    ),
    Permission.VIEW_CONSULTATION: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.READ,
        "Peer consultation groups are for the network's clinicians and the medical group's coordinators.",
    ),
    Permission.MANAGE_CONSULTATION_GROUPS: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.CREATE,
        "Only a coordinator of the medical group forms consultation groups and chooses their members.",
    ),
    # Presentations are clinical (if de-identified): the group's clinicians discuss them; coordinators organise
    # the meetings and see attendance, not the cases.
    Permission.VIEW_PRESENTATIONS: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.READ,
        "Case presentations are shown to the group's clinicians; coordinators see meetings and attendance.",
    ),
    Permission.PRESENT_CASE: Rule(
        frozenset({Role.THERAPIST, Role.PRESCRIBER}),
        AuditEvent.Action.CREATE,
        "Only a therapist or a prescriber in the group presents a case, from a patient on their own care team.",
    ),
    # Patients waiting for a clinician on their team (no prescriber licensed in their state, or a clinician whose
    # credentials lapsed): the coordinators of the medical group assign one.
    Permission.VIEW_ASSIGNMENT_QUEUE: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.LIST,
        "The assignment queue is kept by the medical group's coordinators.",
    ),
    # Applications to join the network: a coordinator of the medical group applied to invites, verifies each
    # credential, asks for corrections, approves or declines. Applicants are not patients; no clinician sees them.
    Permission.REVIEW_APPLICATION: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Applications to join the network are reviewed by the medical group's coordinators.",
    ),
    # Supervision (network.supervision): prescribers are supervised (and supervise); coordinators chase overdue
    # reviews and say who supervises each prescriber.
    Permission.VIEW_SUPERVISION: Rule(
        frozenset({Role.PRESCRIBER, Role.COORDINATOR}),
        AuditEvent.Action.LIST,
        "Supervision is between the medical group's prescribers, kept by its coordinators.",
    ),
    Permission.ASSIGN_SUPERVISOR: Rule(
        frozenset({Role.COORDINATOR}),
        AuditEvent.Action.UPDATE,
        "Supervisors are assigned by the medical group's coordinators.",
    ),
}


def visible_clinicians(user):
    """The clinicians whose credentials the user may see: a coordinator sees the prescribers of their medical
    group and the therapists of the practices that refer to it; a clinician sees themself."""
    clinicians = User.objects.filter(role__in=User.CLINICIAN_ROLES)
    if not user.is_authenticated:
        return clinicians.none()
    if user.role == Role.COORDINATOR and user.organization_id:
        group = user.organization_id
        return clinicians.filter(Q(organization_id=group) | Q(organization__medical_group_id=group))
    if user.role in User.CLINICIAN_ROLES:
        return clinicians.filter(pk=user.pk)
    return clinicians.none()


def of_visible_clinicians(user, queryset, field="clinician"):
    """Rows of `queryset` that belong to a clinician the user may see (visible_clinicians): a clinician's own
    enrolments, certificates and transcript; their medical group's clinicians' for a coordinator."""
    return queryset.filter(**{f"{field}__in": visible_clinicians(user)})


def visible_consultation_groups(user, groups):
    """Narrow a queryset of consultation groups to those the user may see: a clinician the groups they
    facilitate or belong to; a coordinator their medical group's groups; nobody else any."""
    if not user.is_authenticated:
        return groups.none()
    if user.role in User.CLINICIAN_ROLES:
        mine = groups.model.objects.filter(Q(facilitator=user) | Q(memberships__clinician=user)).values("pk")
        return groups.filter(pk__in=mine)
    if user.role == Role.COORDINATOR and user.organization_id:
        return groups.filter(medical_group_id=user.organization_id)
    return groups.none()


NOT_THE_FACILITATOR = "Only the group's facilitator schedules its meetings and records who attended."


def require_facilitator(user, group, obj=None):
    """403 (audited) unless the user facilitates `group` (from visible_consultation_groups)."""
    if user.is_authenticated and group.facilitator_id == user.pk:
        return
    audit_record(user, AuditEvent.Action.UPDATE, obj or group, denied=True)
    raise PermissionDenied(NOT_THE_FACILITATOR)


def can(user, permission):
    return user.is_authenticated and user.role in RULES[permission].roles


def require(user, permission, obj=None, *, object_type=None):
    """Refuse (403, audited) unless the user's role may do this. `obj` must come from a visible_* queryset."""
    if can(user, permission):
        return
    rule = RULES[permission]
    if obj is not None:
        audit_record(user, rule.action, obj, denied=True)
    else:
        audit_denied(user, rule.action, object_type=object_type or permission.value, object_id="")
    raise PermissionDenied(rule.reason)


def get_visible(queryset, pk, *, user, action, model=None, patient_field="pk"):
    """The object with this id from a scoped queryset, or 404. A miss is audited against the real
    patient when the object exists, so the patient's access history shows the attempt. `model` and
    `patient_field` name the object's patient (default: the queryset's own model, a patient)."""
    model = model or queryset.model
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError):
        pass
    try:
        patient_id = model.objects.filter(pk=pk).values_list(patient_field, flat=True).first()
    except (ValidationError, ValueError):
        patient_id = None
    audit_denied(user, action, object_type=model._meta.label_lower, object_id=pk, patient_id=patient_id)
    raise Http404("No such record, or it is not on your care team.")


PRIVATE_NOTE_TYPE = "treatment.psychotherapynote"  # the audit object type of a psychotherapy note


def visible_applications(user, applications):
    """Applications to join the network (a queryset of network.joining's Application, passed in because that app
    sits above this one): a coordinator sees those to their own medical group; nobody else sees any."""
    if user.is_authenticated and user.role == Role.COORDINATOR and user.organization_id:
        return applications.filter(medical_group_id=user.organization_id)
    return applications.none()


def visible_supervision_cases(user, cases):
    """Records picked for supervision (a queryset of network.supervision's SupervisionCase, passed in because that
    app sits above this one): a supervisor sees the cases picked for them (their supervision grant: that record and
    its context, read-only, as network.supervision.selectors defines it; never the patient's chart or the care
    team's routes); a prescriber their own reviewed work; a coordinator their medical group's cases (to chase
    overdue reviews); nobody else any."""
    if not user.is_authenticated:
        return cases.none()
    picked = cases.exclude(reason="")
    if user.role == Role.PRESCRIBER:
        return picked.filter(Q(supervisor=user) | Q(prescriber=user))
    if user.role == Role.COORDINATOR and user.organization_id:
        return picked.filter(prescriber__organization_id=user.organization_id)
    return cases.none()


SUPERVISION_SIDES = {
    "supervisor": "Only the case's supervisor reviews it.",
    "prescriber": "Only the prescriber whose work was reviewed acknowledges the feedback.",
}


def require_supervision_side(user, case, side):
    """403 (audited) unless the user is the case's `side` ("supervisor" or "prescriber"); `case` comes from
    visible_supervision_cases."""
    if user.is_authenticated and getattr(case, f"{side}_id") == user.pk:
        return
    audit_record(user, AuditEvent.Action.UPDATE, case, denied=True)
    raise PermissionDenied(SUPERVISION_SIDES[side])
