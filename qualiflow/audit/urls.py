from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.entry_list, name="entry_list"),
    path("export.csv", views.entry_export, name="entry_export"),
    path("history/<str:object_type>/<str:object_id>/", views.object_history, name="object_history"),
    path("verify/", views.verify, name="verify"),
    path("trace/", views.trace, name="trace"),
]
