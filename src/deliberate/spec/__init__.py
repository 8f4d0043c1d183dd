"""The safety spec: format, loading, rendering, per-category excerpts and lint."""

from deliberate.spec.load import default_spec_path, load_spec
from deliberate.spec.model import (
    NONE_CATEGORY,
    Category,
    CategorySummary,
    Definition,
    Example,
    ResponseMode,
    Rule,
    Severity,
    Spec,
    StyleGuideline,
    content_hash,
)

__all__ = [
    "NONE_CATEGORY",
    "Category",
    "CategorySummary",
    "Definition",
    "Example",
    "ResponseMode",
    "Rule",
    "Severity",
    "Spec",
    "StyleGuideline",
    "content_hash",
    "default_spec_path",
    "load_spec",
]
