from django.urls import path, re_path

from . import access_history_views, views

app_name = "records"

urlpatterns = [
    path(
        "patients/<uuid:patient_id>/access-history/",
        access_history_views.patient_access_history,
        name="patient-access-history",
    ),
    path("patients/<uuid:patient_id>/record/", views.patient_record_export, name="patient-record-export"),
    path("records/exports/<str:token>/", views.record_export, name="record-export"),
    path("records/exports/<str:token>/status/", views.record_export_status, name="record-export-status"),
    re_path(
        r"^records/exports/(?P<token>[^/]+)/download\.(?P<fmt>html|pdf|json)$",
        views.record_export_download,
        name="record-export-download",
    ),
]
