"""The bodies of Rasa's REST channel, as Rasa's own ``/webhooks/rest/webhook`` takes and answers them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.base import Out


class RasaMessageIn(BaseModel):
    """A customer message for Rasa's REST channel (documentation only: the route reads the body itself, so that a
    bad one gets a 400 that says what is wrong, as Rasa answers)."""

    sender: str = Field(min_length=1, max_length=128, description="The conversation: kept across calls")
    message: str = Field(min_length=1, description="What the customer said (a button's payload, too)")
    metadata: dict[str, Any] | None = Field(None, description="Accepted as Rasa does; not used")


class RasaBotMessageOut(Out):
    """One bot message, as Rasa's collecting output channel lists it: only the keys it has."""

    recipient_id: str
    text: str | None = None
    buttons: list[dict[str, Any]] | None = Field(None, description="Each a `title` and the `payload` a press sends")
    image: str | None = None
    custom: Any = None


class RasaChannelOut(Out):
    """Rasa's answer to a GET on a channel's root."""

    status: str
