from django.urls import path

from . import views

urlpatterns = [
    path("visits/", views.visits_page, name="my-visits"),
    path("visits/book/<slug:kind>/", views.visit_book, name="visit-book"),
    path("visits/<uuid:visit_id>/", views.visit_page, name="visit-page"),
    path("visits/<uuid:visit_id>/visit.ics", views.visit_ics, name="visit-ics"),
    path("visits/<uuid:visit_id>/<slug:what>/", views.visit_change, name="visit-change"),
    path("patients/<uuid:patient_id>/visits/", views.visits_page, name="patient-visits"),
    path("patients/<uuid:patient_id>/visits/book/<slug:kind>/", views.visit_book, name="patient-visit-book"),
    path("schedule/", views.schedule_page, name="my-schedule"),
    path("schedule/<slug:which>/<int:pk>/delete/", views.schedule_row_delete, name="schedule-row-delete"),
    path("calendar/", views.calendar_page, name="my-calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
