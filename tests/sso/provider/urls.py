from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    # Browsers ask; an answer keeps the browser tests' console free of a 404.
    path("favicon.ico", lambda request: HttpResponse(status=204)),
]
