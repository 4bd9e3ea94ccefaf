"""The models Django loads for the `treatment` app (label and migrations unchanged): each lives in its
sub-package and is re-exported here, so `from treatment.models import X` keeps working."""

from treatment.adverse_events.models import AdverseEvent
from treatment.course.models import CarePolicy, DosePlan, FollowUp, TreatmentCourse
from treatment.notes.models import (
    IntegrationSummary,
    IntegrationSummaryAddendum,
    PsychotherapyNote,
    SessionNote,
    SessionNoteAddendum,
)
from treatment.prescriptions.models import (
    MedicineCount,
    PDMPCheck,
    PharmacyNotice,
    Prescription,
    PrescriptionFill,
    StockEntry,
    StockSite,
)
from treatment.sessions.models import (
    BoosterDose,
    ChaperoneCheckIn,
    ChecklistConfirmation,
    DosingRecord,
    SessionChange,
    TherapySession,
    VitalsReading,
)
from treatment.visits.models import (
    CalendarFeed,
    DateHours,
    Schedule,
    SessionHoursException,
    TimeOff,
    Visit,
    WeeklyHours,
)

__all__ = [
    "AdverseEvent",
    "BoosterDose",
    "CalendarFeed",
    "CarePolicy",
    "ChaperoneCheckIn",
    "ChecklistConfirmation",
    "DateHours",
    "DosePlan",
    "DosingRecord",
    "FollowUp",
    "IntegrationSummary",
    "IntegrationSummaryAddendum",
    "MedicineCount",
    "PDMPCheck",
    "PharmacyNotice",
    "Prescription",
    "PrescriptionFill",
    "PsychotherapyNote",
    "Schedule",
    "SessionChange",
    "SessionHoursException",
    "SessionNote",
    "SessionNoteAddendum",
    "StockEntry",
    "StockSite",
    "TherapySession",
    "TimeOff",
    "TreatmentCourse",
    "Visit",
    "VitalsReading",
    "WeeklyHours",
]
