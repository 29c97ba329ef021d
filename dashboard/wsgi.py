import os

from django.core.wsgi import get_wsgi_application

from dashboard.env import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
# A bad setting: one line and exit code 4, which gunicorn takes as "the application cannot load"
# and stops, instead of starting a new worker that fails again (deploy/gunicorn.conf.py checks the
# settings before any worker starts, so under it this is only a second line of defence).
load_settings_or_exit(exit_code=4)
application = get_wsgi_application()
