from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from advisoros.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup, name="signup"),
    path("signup/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("firms/new/", views.signup, name="firm_create"),
    path(
        "invitations/<str:token>/",
        views.invitation_accept_view,
        name="invitation_accept",
    ),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="accounts/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("security/", views.security, name="security"),
    path("security/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path(
        "security/two-factor/confirm/",
        views.two_factor_confirm,
        name="two_factor_confirm",
    ),
    path(
        "security/two-factor/disable/",
        views.two_factor_disable,
        name="two_factor_disable",
    ),
    path(
        "security/recovery-codes/", views.recovery_codes_new, name="recovery_codes_new"
    ),
    path(
        "security/two-factor/required/",
        views.two_factor_required,
        name="two_factor_required",
    ),
]
