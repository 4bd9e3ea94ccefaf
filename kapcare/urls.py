from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from assessments.api import IntakeViewSet
from assessments.questionnaires.api import QuestionnaireResponseViewSet
from kapcare import views
from kapcare.api.schema import SchemaGenerator
from messaging.api import MessageViewSet, NotificationViewSet
from messaging.reminders.api import ReminderViewSet
from network.api import register as register_network_api
from outcomes.api import OutcomesViewSet, ResearchExportViewSet
from patients.alerts_api import SafetyAlertViewSet
from patients.api import PatientViewSet
from patients.consents_api import ConsentDocumentViewSet, ConsentSignatureViewSet
from patients.reconciliation_api import ReferralReconciliationViewSet
from records.access_history_api import AuditEventViewSet
from records.api import FhirRecordViewSet
from treatment.adverse_events.api import AdverseEventViewSet
from treatment.course.api import CourseViewSet, DosePlanViewSet, EvaluationViewSet, FollowUpViewSet
from treatment.notes.api import IntegrationSummaryViewSet, PsychotherapyNoteViewSet, SessionNoteViewSet
from treatment.prescriptions.api import MedicineCountViewSet, PDMPCheckViewSet, PrescriptionViewSet, StockLogView
from treatment.sessions.api import SessionViewSet
from treatment.visits.api import DateHoursViewSet, TimeOffViewSet, VisitSlotViewSet, VisitViewSet, WeeklyHoursViewSet

router = SimpleRouter(trailing_slash=True)
router.register("patients", PatientViewSet, basename="patient")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("intakes", IntakeViewSet, basename="intake")
router.register("consent-documents", ConsentDocumentViewSet, basename="consent-document")
router.register("consent-signatures", ConsentSignatureViewSet, basename="consent-signature")
router.register("evaluations", EvaluationViewSet, basename="evaluation")
router.register("courses", CourseViewSet, basename="course")
router.register("dose-plans", DosePlanViewSet, basename="dose-plan")
router.register("sessions", SessionViewSet, basename="session")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("session-notes", SessionNoteViewSet, basename="session-note")
router.register("psychotherapy-notes", PsychotherapyNoteViewSet, basename="psychotherapy-note")
router.register("integration-summaries", IntegrationSummaryViewSet, basename="integration-summary")
router.register("alerts", SafetyAlertViewSet, basename="alert")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
router.register("assessments", QuestionnaireResponseViewSet, basename="assessment")
router.register("messages", MessageViewSet, basename="message")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("reminders", ReminderViewSet, basename="reminder")
router.register("visits", VisitViewSet, basename="visit")
router.register("prescriptions", PrescriptionViewSet, basename="prescription")
router.register("pdmp-checks", PDMPCheckViewSet, basename="pdmp-check")
router.register("medicine-counts", MedicineCountViewSet, basename="medicine-count")
router.register("visit-slots", VisitSlotViewSet, basename="visit-slot")
router.register("availability/weekly-hours", WeeklyHoursViewSet, basename="availability-weekly-hours")
router.register("availability/dates", DateHoursViewSet, basename="availability-date")
router.register("availability/time-off", TimeOffViewSet, basename="availability-time-off")
router.register("referral-reconciliations", ReferralReconciliationViewSet, basename="referral-reconciliation")
router.register("outcomes", OutcomesViewSet, basename="outcomes")
router.register("research-exports", ResearchExportViewSet, basename="research-export")
register_network_api(router)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/patients/<str:pk>/fhir/", FhirRecordViewSet.as_view({"get": "retrieve"}), name="patient-fhir"),
    path("api/v1/stock-log/", StockLogView.as_view(), name="stock-log"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(generator_class=SchemaGenerator), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("kapcare.accounts.urls")),
    path("", include("messaging.dashboards.urls")),
    path("", include("treatment.urls")),
    path("", include("assessments.urls")),
    path("", include("patients.urls")),
    path("", include("messaging.urls")),
    path("", include("messaging.reminders.urls")),
    path("", include("records.urls")),
    path("", include("outcomes.urls")),
    path("", include("network.urls")),
]

handler404 = "kapcare.views.not_found"
handler500 = "kapcare.views.internal_error"
