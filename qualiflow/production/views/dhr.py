"""Production pages: dhr."""

urlpatterns: list = []
