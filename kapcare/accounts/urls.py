from django.urls import path

from . import views

urlpatterns = [
    path("clinicians/credentials/", views.credentials_page, name="clinician-credentials"),
    path(
        "clinicians/<uuid:clinician_id>/referral-exceptions/",
        views.referral_exception_grant,
        name="clinician-referral-exception",
    ),
]
