"""The registry's one way of writing a day and a moment, in every language: 05/12/2026 and
05/12/2026 14:30, as its pages, files and mails write them. Django's own formats would
have the admin write "14:30 Ngày 05 tháng 12 năm 2026" or "Dec. 5, 2026, 2:30 p.m." and
its drill-down "Tháng Mười Hai 2026" (walkthrough). Only how dates are shown: the formats
a form reads stay Django's (the pages' date fields send 2026-12-05)."""

DATE_FORMAT = SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "m/Y"
MONTH_DAY_FORMAT = "d/m"
