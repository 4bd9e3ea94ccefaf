from django.urls import include, path

app_name = "network"

urlpatterns = [
    path("", include("network.training.urls")),
    path("", include("network.consultation.urls")),
]
