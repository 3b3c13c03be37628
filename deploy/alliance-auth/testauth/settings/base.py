"""The settings of Alliance Auth 5.5's project template (allianceauth/project_template), trimmed to what
a test run needs: SQLite, a private Redis as the cache, Celery run eagerly, no log files."""

import os

from django.contrib import messages

INSTALLED_APPS = [
    "allianceauth",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "solo",
    "django_bootstrap5",
    "sortedm2m",
    "esi",
    "allianceauth.framework",
    "allianceauth.admin_status",
    "allianceauth.authentication",
    "allianceauth.services",
    "allianceauth.eveonline",
    "allianceauth.groupmanagement",
    "allianceauth.notifications",
    "allianceauth.thirdparty.navhelper",
    "allianceauth.analytics",
    "allianceauth.menu",
    "allianceauth.theme",
    "allianceauth.theme.darkly",
    "allianceauth.theme.flatly",
    "allianceauth.theme.materia",
    "allianceauth.custom_css",
    "allianceauth.crontab",
    "sri",
]

SRI_ALGORITHM = "sha512"
SECRET_KEY = "warden-sync-tests-only-not-a-secret"

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE_DIR = os.path.dirname(PROJECT_DIR)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "allianceauth.authentication.middleware.UserSettingsMiddleware",
    "allianceauth.middleware.DeviceDetectionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "allianceauth.urls"
LANGUAGES = (("en", "English"),)
LANGUAGE_MAPPING = {"DataTables": {}, "MomentJS": {}}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.media",
                "django.template.context_processors.static",
                "django.template.context_processors.tz",
                "allianceauth.context_processors.auth_settings",
            ],
        },
    },
]

WSGI_APPLICATION = "allianceauth.wsgi.application"
AUTHENTICATION_BACKENDS = [
    "allianceauth.authentication.backends.StateBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, ".static")
MESSAGE_TAGS = {messages.ERROR: "danger error"}

# Alliance Auth needs its cache to be Redis (django-redis); runtests.py starts a private redis-server
# and names it in TESTAUTH_REDIS_URL.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("TESTAUTH_REDIS_URL", "redis://127.0.0.1:6379/15"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

DEBUG = False
ALLOWED_HOSTS = ["*"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TESTAUTH_DB", os.path.join(BASE_DIR, ".testauth.sqlite3")),
        "TEST": {"NAME": os.environ.get("TESTAUTH_TEST_DB") or None},
    },
}

SITE_NAME = "Test Auth"
SITE_URL = "http://127.0.0.1:8000"
CSRF_TRUSTED_ORIGINS = [SITE_URL]
DEFAULT_THEME = "allianceauth.theme.flatly.auth_hooks.FlatlyThemeHook"
LOGIN_URL = "auth_login_user"
LOGIN_REDIRECT_URL = "authentication:dashboard"
LOGOUT_REDIRECT_URL = "authentication:dashboard"
LOGIN_TOKEN_SCOPES = ["publicData"]
ESI_API_URL = "https://esi.evetech.net/"
ESI_SSO_CLIENT_ID = "test-client-id"
ESI_SSO_CLIENT_SECRET = "test-client-secret"
ESI_SSO_CALLBACK_URL = "http://127.0.0.1:8000/sso/callback"
ESI_USER_CONTACT_EMAIL = "tests@example.com"

# Celery: run tasks eagerly, as Alliance Auth's own test settings do (and as some sites run it).
BROKER_URL = "memory://"
CELERY_ALWAYS_EAGER = True
CELERY_EAGER_PROPAGATES_EXCEPTIONS = True
CELERYBEAT_SCHEDULE = {}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "level": os.environ.get("TESTAUTH_LOG_LEVEL", "CRITICAL")}},
    "loggers": {"": {"handlers": ["console"], "level": os.environ.get("TESTAUTH_LOG_LEVEL", "CRITICAL")}},
}
SILENCED_SYSTEM_CHECKS = ["allianceauth.checks.A002"]  # the Redis version of the test machine
