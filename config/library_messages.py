"""Vietnamese for messages of the libraries the registry uses that their own catalogues
lack. Django REST framework's field errors and refusals: an API answer to a Vietnamese
request said '"xyz" is not a valid choice.' or 'Authentication credentials were not
provided.' Django's admin asks for "Please correct the error below." with a plural form
its Vietnamese catalogue does not have, and writes words it has no Vietnamese for (the
filters' "Show counts") or a wrong one ("Các mô models trong"). django-leaflet's map
widget has no Vietnamese at all: the admin's drawing buttons said "Draw a marker". The
libraries ask gettext for
these at run time and the project's catalogue (locale/) comes first; they are named here
only so that `make messages` puts them there (tests/config/test_i18n_and_deploy.py checks
them)."""

from django.utils.translation import gettext_noop, ngettext_lazy

DRF_FIELD_ERRORS = [
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop('"{input}" is not a valid path choice.'),
    gettext_noop("A valid biginteger is required."),
    gettext_noop("A valid integer is required."),
    gettext_noop("A valid number is required."),
    gettext_noop("Datetime has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Datetime value out of range."),
    gettext_noop("Duration has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Ensure that there are no more than {max_decimal_places} decimal places."),
    gettext_noop("Ensure that there are no more than {max_digits} digits in total."),
    gettext_noop("Ensure that there are no more than {max_whole_digits} digits before the decimal point."),
    gettext_noop("Ensure this field has at least {min_length} characters."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Ensure this filename has at most {max_length} characters (it has {length})."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop('Enter a valid "slug" consisting of Unicode letters, numbers, underscores, or hyphens.'),
    gettext_noop('Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'),
    gettext_noop("Expected a date but got a datetime."),
    gettext_noop("Expected a datetime but got a date."),
    gettext_noop('Expected a dictionary of items but got type "{input_type}".'),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop("Incorrect type. Expected URL string, received {data_type}."),
    gettext_noop("Incorrect type. Expected pk value, received {data_type}."),
    gettext_noop("Integer value too large to convert to float"),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop("Invalid hyperlink - Incorrect URL match."),
    gettext_noop("Invalid hyperlink - No URL match."),
    gettext_noop("Invalid hyperlink - Object does not exist."),
    gettext_noop('Invalid pk "{pk_value}" - object does not exist.'),
    gettext_noop("Invalid value."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("No filename could be determined."),
    gettext_noop("Not a valid string."),
    gettext_noop("Object with {slug_name}={value} does not exist."),
    gettext_noop("String value too large."),
    gettext_noop("The number of days must be between {min_days} and {max_days}."),
    gettext_noop("The submitted data was not a file. Check the encoding type on the form."),
    gettext_noop("This dictionary may not be empty."),
    gettext_noop("This field may not be null."),
    gettext_noop("This selection may not be empty."),
    gettext_noop("This value does not match the required pattern."),
    gettext_noop("Time has wrong format. Use one of these formats instead: {format}."),
]

# Its refusals (exceptions' default details): what a client signed out, refused or too
# quick reads.
DRF_REFUSALS = [
    gettext_noop("A server error occurred."),
    gettext_noop("Invalid input."),
    gettext_noop("Malformed request."),
    gettext_noop("Incorrect authentication credentials."),
    gettext_noop("Authentication credentials were not provided."),
    gettext_noop("You do not have permission to perform this action."),
    gettext_noop("Not found."),
    gettext_noop('Method "{method}" not allowed.'),
    gettext_noop("Could not satisfy the request Accept header."),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop("Request was throttled."),
]

ADMIN_FORM_ERRORS = ngettext_lazy("Please correct the error below.", "Please correct the errors below.")

# What Django's admin writes on the pages a district's people open (every page's header
# and sidebar, the lists and their filters, forms, a record's history, a person's account
# and password) that its Vietnamese catalogue leaves in English
# (tests/config/test_admin_vietnamese.py finds them), or gives wrong ("Models in the
# %(name)s application": "Các mô models trong").
DJANGO_ADMIN = [
    gettext_noop("Skip to main content"),
    gettext_noop("Breadcrumbs"),
    gettext_noop("Toggle theme (current theme: auto)"),
    gettext_noop("Toggle theme (current theme: light)"),
    gettext_noop("Toggle theme (current theme: dark)"),
    gettext_noop("Toggle navigation"),
    gettext_noop("Sidebar"),
    gettext_noop("Filter navigation items"),
    gettext_noop("Models in the %(name)s application"),
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Added:"),
    gettext_noop("Changed:"),
    gettext_noop("Deleted:"),
    gettext_noop("Show counts"),
    gettext_noop("Hide counts"),
    gettext_noop("Select all objects on this page for an action"),
    gettext_noop("Select this object for an action - {}"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Error:"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Password-based authentication"),
    gettext_noop("Enabled"),
    gettext_noop("Disabled"),
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. If disabled, they may still be "
        "able to authenticate using other backends, such as Single Sign-On or LDAP."
    ),
    gettext_noop("Raw passwords are not stored, so there is no way to see the user’s password."),
    gettext_noop("Reset password"),
    gettext_noop("Set password"),
    gettext_noop("This action will <strong>enable</strong> password-based authentication for this user."),
    gettext_noop("Disable password-based authentication"),
    gettext_noop("Enable password-based authentication"),
    gettext_noop("Password-based authentication was disabled."),
    gettext_noop("Conflicting form data submitted. Please try again."),
]
# A record's history, counted under its rows when it runs to more than one page.
HISTORY_ENTRIES = ngettext_lazy("entry", "entries")

# django-leaflet's map widget (its leaflet_draw_i18n tag): the admin's drawing buttons and
# hints, which it has no Vietnamese catalogue for.
LEAFLET_DRAW = [
    gettext_noop("Reset view"),
    gettext_noop("Cancel drawing"),
    gettext_noop("Delete last point drawn"),
    gettext_noop("Delete last point"),
    gettext_noop("Draw a polyline"),
    gettext_noop("Draw a polygon"),
    gettext_noop("Draw a rectangle"),
    gettext_noop("Draw a circle"),
    gettext_noop("Draw a marker"),
    gettext_noop("Click and drag to draw circle."),
    gettext_noop("Click map to place marker."),
    gettext_noop("Click to start drawing shape."),
    gettext_noop("Click to continue drawing shape."),
    gettext_noop("Click first point to close this shape."),
    gettext_noop("<strong>Error:</strong> shape edges cannot cross!"),
    gettext_noop("Click to start drawing line."),
    gettext_noop("Click to continue drawing line."),
    gettext_noop("Click last point to finish line."),
    gettext_noop("Click and drag to draw rectangle."),
    gettext_noop("Release mouse to finish drawing."),
    gettext_noop("Save changes."),
    gettext_noop("Cancel editing, discards all changes."),
    gettext_noop("Edit layers"),
    gettext_noop("No layers to edit."),
    gettext_noop("Delete layers"),
    gettext_noop("No layers to delete."),
    gettext_noop("Drag handles, or marker to edit feature."),
    gettext_noop("Click cancel to undo changes."),
    gettext_noop("Click on a feature to remove"),
]
