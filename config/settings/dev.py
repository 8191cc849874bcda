"""Local development: `make run`."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = "dev-only-not-secret-8f3b1c2a9d7e4f60b5a1c3d2e9f8a7b6c5d4e3f2a1b0"
