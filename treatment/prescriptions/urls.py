from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:patient_id>/prescriptions/", views.prescription_list, name="patient-prescriptions"),
    path(
        "patients/<uuid:patient_id>/prescriptions/<uuid:prescription_id>.pdf",
        views.prescription_pdf,
        name="patient-prescription-pdf",
    ),
]
