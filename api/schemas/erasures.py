"""Erasure requests and the audit record of erased conversations, for admins."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.base import Out

MAX_IDS = 1000  # one request; a longer list is several

ConversationId = Annotated[str, Field(min_length=1, max_length=64)]


class ErasuresIn(BaseModel):
    conversation_ids: list[ConversationId] = Field(min_length=1, max_length=MAX_IDS)


class ErasureOut(Out):
    """An erased conversation as the audit log keeps it: who, when and how many rows, never their content."""

    conversation_id: str
    erased_at: str | None
    erased_by: str = Field(description='"admin:<name>", "cli" or "retention"')
    counts: dict[str, int] = Field(description="rows removed, per table")


class ErasedOut(Out):
    """One id of a request: erased now, or found erased before (that erasure's record)."""

    status: str = Field(description="erased | already_erased")
    conversation_id: str
    erased_at: str | None
    erased_by: str
    counts: dict[str, int]


class FilesScrubbedOut(Out):
    training_rows: int = Field(description="rows dropped from the training sets `dataset build` wrote")
    report_examples: int = Field(description="example texts dropped from model evaluation reports")
    files: int = Field(description="files rewritten")


class ErasureReportOut(Out):
    conversations: list[ErasedOut]
    files: FilesScrubbedOut
