# English keeps Django's formats (FORMAT_MODULE_PATH reads this module first) but the
# dates, which are the registry's own in every language (config/formats/dates, every name
# it defines).
from config.formats.dates import *  # noqa: F403
