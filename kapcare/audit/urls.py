from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("patients/<uuid:patient_id>/access-history/", views.patient_access_history, name="patient-access-history"),
]
