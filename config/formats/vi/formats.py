# Vietnamese numbers group thousands with "." and separate decimals with "," (1.234,5).
# Django's own Vietnamese formats set the separators but no grouping; everything else
# comes from them (FORMAT_MODULE_PATH reads this module first).
NUMBER_GROUPING = 3
