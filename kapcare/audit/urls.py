from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:patient_id>/access-history/", views.patient_access_history, name="patient-access-history"),
]
