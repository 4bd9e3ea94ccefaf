"""The network's models, kept in its sub-packages and imported here so Django finds them."""

from network.consultation.models import Attendance, ConsultationGroup, GroupMembership, Meeting, Presentation
from network.training.models import Course, Enrolment

__all__ = ["Attendance", "ConsultationGroup", "Course", "Enrolment", "GroupMembership", "Meeting", "Presentation"]
