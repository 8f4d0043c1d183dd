"""Records that flow between stages, and their JSONL storage."""

from deliberate.records.jsonl import JsonlAppender, iter_records, read_jsonl, write_jsonl
from deliberate.records.prompt import PromptRecord
from deliberate.records.sources import ColumnMap, load_prompts

__all__ = [
    "ColumnMap",
    "JsonlAppender",
    "PromptRecord",
    "iter_records",
    "load_prompts",
    "read_jsonl",
    "write_jsonl",
]
