"""Conversations between customers, the bot and agents: the handoff state machine and the live event bus."""
