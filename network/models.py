"""The network's models live in sub-packages; each is imported here so Django finds it."""

from network.consultation.models import Attendance, ConsultationGroup, GroupMembership, Meeting, Presentation
from network.joining.models import Application, ApplicationDEARegistration, ApplicationLicence, CredentialCheck
from network.supervision.models import (
    SupervisionAssignment,
    SupervisionCase,
    SupervisionComment,
    SupervisionPolicy,
)
from network.training.models import Course, Enrolment

__all__ = [
    "Application",
    "ApplicationDEARegistration",
    "ApplicationLicence",
    "Attendance",
    "ConsultationGroup",
    "Course",
    "CredentialCheck",
    "Enrolment",
    "GroupMembership",
    "Meeting",
    "Presentation",
    "SupervisionAssignment",
    "SupervisionCase",
    "SupervisionComment",
    "SupervisionPolicy",
]
