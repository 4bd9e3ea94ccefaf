from django.urls import path

from . import adverse_event_views, course_views, due_views, measurement_views, note_views, session_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("due/<slug:kind>/", due_views.due_work_list, name="due-work-list"),
    path("patients/<uuid:patient_id>/", views.patient_chart, name="patient-chart"),
    path("patients/<uuid:patient_id>/prescriber/", views.assign_prescriber, name="assign-prescriber"),
    path("patients/<uuid:patient_id>/therapist/", views.assign_therapist, name="assign-therapist"),
    path("patients/<uuid:patient_id>/invitation/", views.resend_invitation, name="resend-invitation"),
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
    path("sessions/<uuid:session_id>/checklist/", session_views.own_checklist, name="session-checklist"),
    path(
        "patients/<uuid:patient_id>/side-effects/new/",
        adverse_event_views.chart_side_effect_new,
        name="patient-side-effect-new",
    ),
    path("side-effects/new/", adverse_event_views.own_side_effect_new, name="side-effect-new"),
    path("alerts/<uuid:alert_id>/", adverse_event_views.alert_page, name="alert-page"),
    path("alerts/<uuid:alert_id>/acknowledge/", adverse_event_views.alert_acknowledge, name="alert-acknowledge"),
    path(
        "patients/<uuid:patient_id>/questionnaires/<slug:code>/",
        measurement_views.chart_questionnaire_form,
        name="patient-questionnaire-form",
    ),
    path("questionnaires/", measurement_views.questionnaire_list, name="questionnaire-list"),
    path("questionnaires/<slug:code>/", measurement_views.questionnaire_form, name="questionnaire-form"),
    path(
        "questionnaires/responses/<uuid:response_id>/",
        measurement_views.questionnaire_done,
        name="questionnaire-done",
    ),
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
    path("refer/", views.refer_patient, name="refer-patient"),
    path("profile/", views.patient_profile, name="patient-profile"),
]
