from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from accounts.logins import idle_status
from accounts.views import brand_stylesheet, media_file
from api import errors as api_errors
from reference_chat import views
from shifts.views import log_out

admin.site.site_header = "Reference Chat administration"
admin.site.site_title = "Reference Chat"
admin.site.index_title = "Libraries, staff and queues"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", log_out, name="logout"),
    path("idle/", idle_status, name="idle"),
    # The patron pages' script translations (locale/*/djangojs.po), in the
    # request's language (?lang=, cookie, Accept-Language): static/js/i18n.js.
    # Only the project's own catalogue (LOCALE_PATHS), not every app's (the admin's).
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["core"]), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include("chat.urls")),
    path("", include("questions.urls")),
    path("", include("scripts.urls")),
    path("", include("surveys.urls")),
    path("", include("console.urls")),
    path("", include("widget.urls")),
    path("console/history/", include("transcripts.urls")),
    path("console/stats/", include("stats.urls")),
    path("api/v1/", include("api.urls")),
    path("brand/<slug:slug>.css", brand_stylesheet, name="brand-css"),
]
if settings.SERVE_MEDIA:
    # The logos, in the embedded mode; nginx serves them in production.
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", media_file, name="media"))

# JSON for every path under /api/, Django's own pages (templates/404.html,
# 500.html) for the rest of the site (api/errors.py).
handler400 = api_errors.bad_request
handler404 = api_errors.page_not_found
handler500 = api_errors.server_error
