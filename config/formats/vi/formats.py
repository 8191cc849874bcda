# Vietnamese numbers group thousands with "." and separate decimals with "," (1.234,5).
# Django's own Vietnamese formats set the separators but no grouping; everything else
# comes from them (FORMAT_MODULE_PATH reads this module first), but the dates, which are
# the registry's own in every language (config/formats/dates, every name it defines).
from config.formats.dates import *  # noqa: F403

NUMBER_GROUPING = 3
