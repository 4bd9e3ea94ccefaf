from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, views

router = SimpleRouter(trailing_slash=True)
router.register("supervision/cases", api.SupervisionCaseViewSet, basename="supervision-case")

urlpatterns = [
    path("api/v1/network/", include(router.urls)),
    path("network/supervision/", views.supervision_home, name="supervision"),
    path("network/supervision/<uuid:pk>/", views.case_detail, name="supervision-case"),
    path(
        "network/supervision/<uuid:pk>/context/<slug:kind>/<uuid:record_pk>/",
        views.context_detail,
        name="supervision-context-record",
    ),
]
