from django.urls import path

from . import views

app_name = "automation"
urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<uuid:pk>/", views.rule_detail, name="rule_detail"),
    path("rules/<uuid:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<uuid:pk>/activate/", views.rule_activate, name="rule_activate"),
    path("rules/<uuid:pk>/deactivate/", views.rule_deactivate, name="rule_deactivate"),
    path("rules/<uuid:pk>/test/", views.rule_test, name="rule_test"),
    path("firings/", views.firing_list, name="firing_list"),
    path("events/<uuid:event_id>/", views.event_detail, name="event_detail"),
]
