from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from areas.models import Area
        from common.navigation import ACCOUNT, Link, offer

        from . import (
            schema,  # noqa: F401 - registers the API description of device tokens
            sessions,  # noqa: F401 - connects its sign-in receiver
        )
        from .models import AuditEntry, Membership
        from .scope import scope_models

        scope_models({Area: "path", Membership: "area__path", AuditEntry: "area_path"})
        offer(ACCOUNT, Link("password-change", _("Password")))
