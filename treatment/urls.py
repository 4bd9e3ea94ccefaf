from django.urls import include, path

from treatment.adverse_events import views as adverse_event_views
from treatment.course import views as course_views
from treatment.measurement import views as measurement_views
from treatment.notes import views as note_views
from treatment.sessions import agenda
from treatment.sessions import views as session_views

app_name = "treatment"

urlpatterns = [
    path("patients/<uuid:patient_id>/evaluation/", course_views.evaluation_page, name="patient-evaluation"),
    path("patients/<uuid:patient_id>/dose-plan/", course_views.dose_plan_page, name="patient-dose-plan"),
    path("patients/<uuid:patient_id>/follow-up/", course_views.follow_up_page, name="patient-follow-up"),
    path("patients/<uuid:patient_id>/sessions/new/", session_views.session_new, name="patient-session-new"),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/",
        session_views.session_page,
        name="patient-session",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/complete/",
        session_views.session_complete,
        name="patient-session-complete",
    ),
    path("agenda/", agenda.agenda_page, name="agenda"),
    path("sessions/<uuid:session_id>/checklist/", session_views.own_checklist, name="session-checklist"),
    path(
        "patients/<uuid:patient_id>/side-effects/new/",
        adverse_event_views.chart_side_effect_new,
        name="patient-side-effect-new",
    ),
    path("side-effects/new/", adverse_event_views.own_side_effect_new, name="side-effect-new"),
    path("questionnaires/", measurement_views.questionnaire_list, name="questionnaire-list"),
    path("progress/", measurement_views.my_progress, name="my-progress"),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/notes/",
        note_views.session_notes_page,
        name="session-notes",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/notes/progress/",
        note_views.progress_note_save,
        name="session-note-save",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/notes/addenda/",
        note_views.note_addendum_add,
        name="session-note-addendum",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/notes/psychotherapy/",
        note_views.psychotherapy_note_save,
        name="psychotherapy-note-save",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/notes/integration-summary/",
        note_views.integration_summary_save,
        name="integration-summary-save",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/notes/integration-summary/addenda/",
        note_views.integration_summary_addendum_add,
        name="integration-summary-addendum",
    ),
    path("", include("treatment.visits.urls")),
    path("", include("treatment.prescriptions.urls")),
]
