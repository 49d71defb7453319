from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="document_list"),
    path("new/", views.document_create, name="document_create"),
    path("<uuid:pk>/", views.document_detail, name="document_detail"),
    path("<uuid:pk>/edit/", views.document_edit, name="document_edit"),
    path("<uuid:pk>/revisions/new/", views.revision_create, name="revision_create"),
]
