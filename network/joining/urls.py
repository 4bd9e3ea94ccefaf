from django.urls import path

from . import views

urlpatterns = [
    path("network/join/", views.join, name="network-join"),
    path("network/apply/<str:token>/", views.apply_link, name="network-apply-link"),
    path("network/applications/", views.application_list, name="network-applications"),
    path("network/applications/invite/", views.application_invite, name="network-application-invite"),
    path("network/applications/<uuid:pk>/", views.application_detail, name="network-application"),
    path(
        "network/applications/<uuid:pk>/<str:step>/",
        views.application_step,
        name="network-application-step",
    ),
]
