from django.urls import path

from . import views

urlpatterns = [
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
