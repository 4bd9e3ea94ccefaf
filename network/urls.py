"""The network's pages: each sub-package lists its own."""

from django.urls import include, path

from network.joining.urls import urlpatterns as joining

app_name = "network"

urlpatterns = [
    *joining,
    path("", include("network.training.urls")),
    path("", include("network.consultation.urls")),
    path("", include("network.supervision.urls")),
]
