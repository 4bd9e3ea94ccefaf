from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("patients/<uuid:patient_id>/messages/", views.care_team_thread, name="care-team-thread"),
    path("patients/<uuid:patient_id>/messages/patient/", views.patient_thread, name="patient-thread"),
    path(
        "patients/<uuid:patient_id>/messages/share/side-effect/<uuid:record_id>/",
        views.share_side_effect,
        name="share-side-effect",
    ),
    path(
        "patients/<uuid:patient_id>/messages/share/integration-summary/<uuid:record_id>/",
        views.share_integration_summary,
        name="share-integration-summary",
    ),
    path(
        "patients/<uuid:patient_id>/messages/share/dose-plan/<uuid:record_id>/",
        views.share_dose_plan,
        name="share-dose-plan",
    ),
    path("messages/<uuid:message_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("messages/", views.my_messages, name="my-messages"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/badge/", views.notification_badge, name="notification-badge"),
]
