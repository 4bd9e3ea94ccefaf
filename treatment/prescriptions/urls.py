from django.urls import path

from . import site_views, views

urlpatterns = [
    path("patients/<uuid:patient_id>/prescriptions/", views.prescription_list, name="patient-prescriptions"),
    path("patients/<uuid:patient_id>/prescriptions/new/", views.prescription_new, name="patient-prescription-new"),
    path(
        "patients/<uuid:patient_id>/prescriptions/<uuid:prescription_id>/",
        views.prescription_detail,
        name="patient-prescription",
    ),
    path(
        "patients/<uuid:patient_id>/prescriptions/<uuid:prescription_id>.pdf",
        views.prescription_pdf,
        name="patient-prescription-pdf",
    ),
    path("patients/<uuid:patient_id>/pdmp-checks/new/", views.pdmp_check_new, name="patient-pdmp-check-new"),
    path("stock-sites/", site_views.stock_sites, name="stock-sites"),
    path("stock-sites/<uuid:site_id>/", site_views.stock_log, name="stock-log"),
]
