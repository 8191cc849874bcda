"""The words an operator may write for a yes/no setting in the environment, read by every
such setting (config/settings/base.py env_bool, config/basemap.py)."""

ON = frozenset({"1", "true", "yes", "on"})
OFF = frozenset({"0", "false", "no", "off"})
