"""The event bus, in process and through a real Redis: who listens is known before an event is built."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from bot.conversations.events import (
    AGENTS,
    ERASED,
    EventBus,
    LocalBus,
    RedisBus,
    announce_erased,
    customer_channel,
)

REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["local", "redis"])
def bus(request: pytest.FixtureRequest) -> EventBus:
    return LocalBus() if request.param == "local" else RedisBus(REDIS_URL)


def test_a_channel_is_listened_to_only_while_someone_subscribes(bus: EventBus) -> None:
    channel = f"test:{uuid.uuid4().hex}"

    async def scenario() -> tuple[bool, bool, dict[str, str], bool]:
        before = await bus.listened(channel)
        async with bus.subscribe(channel) as events:
            during = await bus.listened(channel)  # the moment a subscription is confirmed
            await bus.publish(channel, {"type": "ping"})
            event = await asyncio.wait_for(anext(events), 10)
        after = await bus.listened(channel)
        await bus.close()
        return before, during, event, after

    before, during, event, after = asyncio.run(scenario())
    assert (before, during, after) == (False, True, False)
    assert event == {"type": "ping"}


def test_an_erasure_reaches_the_consoles_and_the_customers_sockets(bus: EventBus) -> None:
    conversation = uuid.uuid4().hex

    async def scenario() -> tuple[dict[str, str], dict[str, str]]:
        async with bus.subscribe(AGENTS) as consoles, bus.subscribe(customer_channel(conversation)) as customer:
            await announce_erased(bus, [conversation])
            heard = await asyncio.wait_for(anext(consoles), 10), await asyncio.wait_for(anext(customer), 10)
        await bus.close()
        return heard

    console_event, customer_event = asyncio.run(scenario())
    assert console_event == customer_event == {"type": ERASED, "conversation_id": conversation}
