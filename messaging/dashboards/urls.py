from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("patients/<uuid:patient_id>/", views.patient_chart, name="patient-chart"),
]
