from django.urls import path

from . import views

app_name = "integration"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("webhooks/", views.webhook_list, name="webhook_list"),
    path("webhooks/new/", views.webhook_create, name="webhook_create"),
    path("webhooks/<uuid:pk>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/<uuid:pk>/edit/", views.webhook_edit, name="webhook_edit"),
    path("webhooks/<uuid:pk>/deactivate/", views.webhook_deactivate, name="webhook_deactivate"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
    path("events/", views.event_list, name="event_list"),
    path("events/<uuid:event_id>/", views.event_detail, name="event_detail"),
]
