from django.urls import path

from . import alerts_views, views

app_name = "patients"

urlpatterns = [
    path("refer/", views.refer_patient, name="refer-patient"),
    path("profile/", views.patient_profile, name="patient-profile"),
    path("patients/<uuid:patient_id>/prescriber/", views.assign_prescriber, name="assign-prescriber"),
    path("patients/<uuid:patient_id>/therapist/", views.assign_therapist, name="assign-therapist"),
    path("patients/<uuid:patient_id>/invitation/", views.resend_invitation, name="resend-invitation"),
    path("alerts/<uuid:alert_id>/", alerts_views.alert_page, name="alert-page"),
    path("alerts/<uuid:alert_id>/acknowledge/", alerts_views.alert_acknowledge, name="alert-acknowledge"),
    path("consents/", views.consent_list, name="consent-list"),
    path("consents/<int:document_id>/", views.consent_detail, name="consent-detail"),
    path("education/", views.education_list, name="education-list"),
    path("education/<slug:slug>/", views.education_detail, name="education-detail"),
    path("patients/<uuid:patient_id>/consents/", views.patient_consent_status, name="patient-consent-status"),
    path(
        "patients/<uuid:patient_id>/identity-changes/",
        views.patient_identity_changes,
        name="patient-identity-changes",
    ),
    path("reconciliations/", views.reconciliation_queue, name="reconciliation-queue"),
    path(
        "reconciliations/<uuid:entry_id>/link/",
        views.reconciliation_resolve,
        {"decision": "link"},
        name="reconciliation-link",
    ),
    path(
        "reconciliations/<uuid:entry_id>/decline/",
        views.reconciliation_resolve,
        {"decision": "decline"},
        name="reconciliation-decline",
    ),
    path("invitations/accept/", views.invitation_accept, name="invitation-accept"),
    path("invitations/new/", views.invitation_request_new, name="invitation-request-new"),
    path("invitations/<str:token>/", views.invitation_open, name="invitation-open"),
]
