from .views import catalogue, expiry, loop, reports

app_name = "training"
urlpatterns = [*catalogue.urlpatterns, *loop.urlpatterns, *reports.urlpatterns, *expiry.urlpatterns]
