from django.urls import path

from . import chart, due_views, views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("due/<slug:kind>/", due_views.due_work_list, name="due-work-list"),
    path("patients/<uuid:patient_id>/", chart.patient_chart, name="patient-chart"),
    path("patients/<uuid:patient_id>/chart/", chart.patient_chart, name="patient-chart-overview"),
    path("patients/<uuid:patient_id>/chart/<slug:section>/", chart.patient_chart, name="patient-chart-section"),
]
