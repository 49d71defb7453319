"""Production pages: station."""

urlpatterns: list = []
