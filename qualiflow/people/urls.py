from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("", views.employee_list, name="employee_list"),
    path("export.xlsx", views.employee_export, name="employee_export"),
    path("new/", views.employee_create, name="employee_create"),
    path("<uuid:pk>/", views.employee_detail, name="employee_detail"),
    path("<uuid:pk>/edit/", views.employee_edit, name="employee_edit"),
    path("<uuid:pk>/deactivate/", views.employee_deactivate, name="employee_deactivate"),
    path("<uuid:pk>/position/", views.employee_change_position, name="employee_change_position"),
    path("<uuid:pk>/sign/", views.employee_sign, name="employee_sign"),
]
