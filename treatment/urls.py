from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("patients/<uuid:patient_id>/", views.patient_chart, name="patient-chart"),
    path("patients/<uuid:patient_id>/prescriber/", views.assign_prescriber, name="assign-prescriber"),
    path("patients/<uuid:patient_id>/invitation/", views.resend_invitation, name="resend-invitation"),
    path("refer/", views.refer_patient, name="refer-patient"),
    path("profile/", views.patient_profile, name="patient-profile"),
    path("invitations/accept/", views.invitation_accept, name="invitation-accept"),
    path("invitations/new/", views.invitation_request_new, name="invitation-request-new"),
    path("invitations/<str:token>/", views.invitation_open, name="invitation-open"),
]
