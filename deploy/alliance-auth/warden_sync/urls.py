from django.urls import path

from . import views

app_name = "warden_sync"

urlpatterns = [
    path("discord/activate/", views.activate, name="activate"),
    path("discord/deactivate/", views.deactivate, name="deactivate"),
    path("discord/reset/", views.reset, name="reset"),
    path("status/", views.status, name="status"),
]
