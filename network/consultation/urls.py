from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, views

router = SimpleRouter(trailing_slash=True)
router.register("groups", api.GroupViewSet, basename="group")
router.register("meetings", api.MeetingViewSet, basename="meeting")
router.register("presentations", api.PresentationViewSet, basename="presentation")

urlpatterns = [
    path("api/v1/network/", include(router.urls)),
    path("network/groups/", views.group_list, name="groups"),
    path("network/groups/<uuid:pk>/", views.group_detail, name="group"),
    path("network/groups/<uuid:pk>/present/", views.present, name="present"),
    path("network/groups/<uuid:pk>/schedule/", views.schedule, name="schedule"),
    path("network/meetings/<uuid:pk>/", views.meeting_detail, name="meeting"),
    path("network/meetings/<uuid:pk>/meeting.ics", views.meeting_ics, name="meeting-ics"),
    path("network/presentations/<uuid:pk>/", views.presentation_detail, name="presentation"),
]
