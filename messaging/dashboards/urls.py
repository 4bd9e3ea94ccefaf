from django.urls import path

from . import chart, views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("patients/<uuid:patient_id>/", chart.patient_chart, name="patient-chart"),
    path("patients/<uuid:patient_id>/chart/", chart.patient_chart, name="patient-chart-overview"),
    path("patients/<uuid:patient_id>/chart/<slug:section>/", chart.patient_chart, name="patient-chart-section"),
]
