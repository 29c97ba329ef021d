"""Forms: the query parameters of the pages (lenient: a bad value falls back to its default),
and the forms that ask for an operation or make a schedule."""

from dashboard.forms.filters import (
    CatalogFilterForm,
    HostFilterForm,
    LenientForm,
    OperationFilterForm,
    parse_versions,
)
from dashboard.forms.operations import ActionForm, CreateHostForm, DeleteHostForm
from dashboard.forms.schedules import ScheduleForm, SkipForm

__all__ = [
    "ActionForm",
    "CatalogFilterForm",
    "CreateHostForm",
    "DeleteHostForm",
    "HostFilterForm",
    "LenientForm",
    "OperationFilterForm",
    "ScheduleForm",
    "SkipForm",
    "parse_versions",
]
