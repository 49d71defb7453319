from .views import catalogue, dhr, orders, station

app_name = "production"
urlpatterns = [*catalogue.urlpatterns, *orders.urlpatterns, *station.urlpatterns, *dhr.urlpatterns]
