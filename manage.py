#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.management import execute_from_command_line

    from dashboard.env import settings_errors_as_one_line

    with settings_errors_as_one_line():  # a bad setting: one line, not a traceback
        execute_from_command_line(sys.argv)
