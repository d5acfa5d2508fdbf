"""The action package the tests' rasa-sdk server runs: the demo company's actions and some that misbehave."""

from demo.actions.actions import ActionCancelOrder, ActionOrderStatus, ActionSubmitReturn, ValidateReturnForm
from tests.bot.rasa.actions.misbehaving import (
    ActionCrash,
    ActionForever,
    ActionGuessShoeSize,
    ActionPause,
    ActionReject,
    ActionSlow,
    ActionStrangeEvent,
    ActionThenStatus,
    ValidateProbeForm,
)

__all__ = ["ActionCancelOrder", "ActionCrash", "ActionForever", "ActionGuessShoeSize",
           "ActionOrderStatus", "ActionPause", "ActionReject",
           "ActionSlow", "ActionStrangeEvent", "ActionSubmitReturn", "ActionThenStatus", "ValidateProbeForm",
           "ValidateReturnForm"]
