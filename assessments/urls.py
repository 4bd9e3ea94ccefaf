from django.urls import path

from . import views

urlpatterns = [
    path("intake/", views.my_intake, name="intake"),
    path("patients/<uuid:patient_id>/intake/", views.patient_intake, name="patient-intake"),
    path("patients/<uuid:patient_id>/intake/edit/", views.patient_intake_edit, name="patient-intake-edit"),
]
