from django.urls import path

from . import due_views, views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("due/<slug:kind>/", due_views.due_work_list, name="due-work-list"),
    path("patients/<uuid:patient_id>/", views.patient_chart, name="patient-chart"),
]
