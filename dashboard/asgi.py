import os

from django.core.asgi import get_asgi_application

from dashboard.env import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
load_settings_or_exit()  # a bad setting: one line, not a traceback
application = get_asgi_application()
