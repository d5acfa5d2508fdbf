"""The action package the tests' rasa-sdk server runs: the demo company's actions and some that misbehave."""

from demo.actions.actions import ActionCancelOrder, ActionOrderStatus, ActionSubmitReturn, ValidateReturnForm
from tests.bot.rasa.actions.misbehaving import (
    ActionCrash,
    ActionForever,
    ActionReject,
    ActionSlow,
    ActionStrangeEvent,
    ActionThenStatus,
)

__all__ = ["ActionCancelOrder", "ActionCrash", "ActionForever", "ActionOrderStatus", "ActionReject", "ActionSlow",
           "ActionStrangeEvent", "ActionSubmitReturn", "ActionThenStatus", "ValidateReturnForm"]
