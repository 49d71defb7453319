from django.urls import path

from . import views

app_name = "quality"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("export.xlsx", views.event_export, name="event_export"),
    path("new/", views.event_create, name="event_create"),
    path("<uuid:pk>/", views.event_detail, name="event_detail"),
    path("<uuid:pk>/edit/", views.event_edit, name="event_edit"),
    path("<uuid:pk>/close/", views.event_close, name="event_close"),
]
