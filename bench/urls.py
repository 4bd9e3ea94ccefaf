"""Every KAPCare URL plus the bench references (bench/views.py). Used only by kapcare.settings.bench."""

from django.urls import path

from kapcare.urls import handler404, handler500
from kapcare.urls import urlpatterns as kapcare_urlpatterns

from . import views

urlpatterns = [
    path("bench/bare/", views.bare, name="bench-bare"),
    path("bench/floor/", views.floor, name="bench-floor"),
    *kapcare_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
