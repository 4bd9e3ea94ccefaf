from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("clinicians/credentials/", views.credentials_page, name="clinician-credentials"),
    path(
        "clinicians/<uuid:clinician_id>/referral-exceptions/",
        views.referral_exception_grant,
        name="clinician-referral-exception",
    ),
    path("accounts/api-tokens/", views.api_tokens, name="api-tokens"),
    path("accounts/api-tokens/<uuid:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
