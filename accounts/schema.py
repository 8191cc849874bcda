"""How the API description (drf-spectacular) names the ways to show a device token:
any one of them is enough."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.tokens.DeviceTokenAuthentication"
    name = ["deviceToken", "bearerDeviceToken", "basicDeviceToken"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "Token <device token> (tablets)",
            },
            {"type": "http", "scheme": "bearer", "description": "Bearer <device token>"},
            {
                "type": "http",
                "scheme": "basic",
                "description": "user name and a device token as the password (QGIS); never the account password",
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{name: []} for name in self.name]
