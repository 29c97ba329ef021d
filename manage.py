#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from dashboard.env import load_settings_or_exit

    load_settings_or_exit()  # a bad setting: one line, not a traceback
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
