#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as problem:
        # A setting missing from the environment (a command run without the stack's env
        # file): the line that says what to set, not a traceback around it.
        sys.exit(f"{os.path.basename(sys.argv[0])}: {problem}")


if __name__ == "__main__":
    main()
