"""Production pages: catalogue."""

urlpatterns: list = []
