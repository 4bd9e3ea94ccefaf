from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, views

router = SimpleRouter(trailing_slash=True)
router.register("courses", api.CourseViewSet, basename="course")
router.register("enrolments", api.EnrolmentViewSet, basename="enrolment")
router.register("transcripts", api.TranscriptViewSet, basename="transcript")

urlpatterns = [
    path("api/v1/network/", include(router.urls)),
    path("network/training/", views.catalogue, name="training"),
    path("network/training/courses/new/", views.course_add, name="training-course-add"),
    path("network/training/courses/<uuid:course_id>/enrol/", views.enrol, name="training-enrol"),
    path("network/training/enrolments/<uuid:pk>/complete/", views.complete, name="training-complete"),
    path("network/training/enrolments/<uuid:pk>/verify/", views.verify, name="training-verify"),
    path("network/training/enrolments/<uuid:pk>/certificate/", views.certificate, name="training-certificate"),
    path("network/training/transcript/", views.transcript, name="training-transcript"),
    path("network/training/transcript/<uuid:clinician_id>/", views.transcript, name="training-transcript-of"),
]
