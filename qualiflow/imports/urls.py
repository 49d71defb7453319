from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("new/", views.batch_upload, name="batch_upload"),
    path("<uuid:pk>/", views.batch_detail, name="batch_detail"),
    path("<uuid:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("<uuid:pk>/commit/", views.batch_commit, name="batch_commit"),
    path("<uuid:pk>/rollback/", views.batch_rollback, name="batch_rollback"),
    path("<uuid:pk>/errors.csv", views.batch_errors_csv, name="batch_errors_csv"),
    path("<uuid:pk>/errors.xlsx", views.batch_errors_xlsx, name="batch_errors_xlsx"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/<uuid:pk>/", views.source_detail, name="source_detail"),
    path("sources/<uuid:pk>/columns/<str:kind>/", views.column_mapping_edit, name="column_mapping_edit"),
    path("sources/<uuid:pk>/values/", views.value_mapping_add, name="value_mapping_add"),
    path("sources/<uuid:pk>/values/<uuid:mapping_pk>/delete/", views.value_mapping_delete, name="value_mapping_delete"),
]
