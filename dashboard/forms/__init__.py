"""Forms: the query parameters of the pages (lenient: a bad value falls back to its default),
and the forms that ask for an operation."""

from dashboard.forms.filters import (
    CatalogFilterForm,
    HostFilterForm,
    LenientForm,
    OperationFilterForm,
    parse_versions,
)
from dashboard.forms.operations import ActionForm, CreateHostForm, DeleteHostForm

__all__ = [
    "ActionForm",
    "CatalogFilterForm",
    "CreateHostForm",
    "DeleteHostForm",
    "HostFilterForm",
    "LenientForm",
    "OperationFilterForm",
    "parse_versions",
]
