from django.urls import path, re_path

from . import views

app_name = "outcomes"

urlpatterns = [
    path("outcomes/", views.outcomes, name="outcomes"),
    path("outcomes/research-export/", views.research_export_request, name="research-export-request"),
    path("outcomes/research-exports/<str:token>/", views.research_export, name="research-export"),
    path("outcomes/research-exports/<str:token>/status/", views.research_export_status, name="research-export-status"),
    re_path(
        r"^outcomes/research-exports/(?P<token>[^/]+)/(?P<file>data|dictionary)\.csv$",
        views.research_export_download,
        name="research-export-download",
    ),
]
