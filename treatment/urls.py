from django.urls import path

from . import adverse_event_views, course_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("patients/<uuid:patient_id>/", views.patient_chart, name="patient-chart"),
    path("patients/<uuid:patient_id>/prescriber/", views.assign_prescriber, name="assign-prescriber"),
    path("patients/<uuid:patient_id>/invitation/", views.resend_invitation, name="resend-invitation"),
    path("patients/<uuid:patient_id>/evaluation/", course_views.evaluation_page, name="patient-evaluation"),
    path("patients/<uuid:patient_id>/dose-plan/", course_views.dose_plan_page, name="patient-dose-plan"),
    path("patients/<uuid:patient_id>/follow-up/", course_views.follow_up_page, name="patient-follow-up"),
    path("patients/<uuid:patient_id>/sessions/new/", course_views.session_new, name="patient-session-new"),
    path(
        "patients/<uuid:patient_id>/sessions/<uuid:session_id>/complete/",
        course_views.session_complete,
        name="patient-session-complete",
    ),
    path(
        "patients/<uuid:patient_id>/side-effects/new/",
        adverse_event_views.chart_side_effect_new,
        name="patient-side-effect-new",
    ),
    path("side-effects/new/", adverse_event_views.own_side_effect_new, name="side-effect-new"),
    path("alerts/<uuid:alert_id>/acknowledge/", adverse_event_views.alert_acknowledge, name="alert-acknowledge"),
    path("refer/", views.refer_patient, name="refer-patient"),
    path("profile/", views.patient_profile, name="patient-profile"),
]
