from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("<slug:kind>/", views.unit_list, name="unit_list"),
    path("<slug:kind>/new/", views.unit_create, name="unit_create"),
    path("<slug:kind>/<uuid:pk>/", views.unit_detail, name="unit_detail"),
    path("<slug:kind>/<uuid:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("<slug:kind>/<uuid:pk>/deactivate/", views.unit_deactivate, name="unit_deactivate"),
]
