from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("reminders/", views.delivery_log, name="reminder-log"),
    path("reminders/preferences/", views.preferences, name="reminder-preferences"),
]
