"""Production pages: orders."""

urlpatterns: list = []
