from django.urls import path

from . import views

urlpatterns = [
    path("", views.api_tokens, name="api-tokens"),
    path("<uuid:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
