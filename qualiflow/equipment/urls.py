from django.urls import path

from . import views

app_name = "equipment"
urlpatterns = [
    path("", views.equipment_list, name="equipment_list"),
    path("export/", views.equipment_export, name="equipment_export"),
    path("new/", views.equipment_create, name="equipment_create"),
    path("<uuid:pk>/", views.equipment_detail, name="equipment_detail"),
    path("<uuid:pk>/edit/", views.equipment_edit, name="equipment_edit"),
    path("<uuid:pk>/plans/new/", views.plan_create, name="plan_create"),
    path("<uuid:pk>/plans/<uuid:plan_pk>/edit/", views.plan_edit, name="plan_edit"),
    path("<uuid:pk>/records/new/", views.record_start, name="record_start"),
    path("records/<uuid:record_pk>/", views.record_detail, name="record_detail"),
    path("records/<uuid:record_pk>/complete/", views.record_complete, name="record_complete"),
    path("classes/", views.class_list, name="class_list"),
    path("classes/new/", views.class_create, name="class_create"),
    path("classes/<uuid:class_pk>/edit/", views.class_edit, name="class_edit"),
]
