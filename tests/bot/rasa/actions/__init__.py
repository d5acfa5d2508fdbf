"""The action package the tests' rasa-sdk server runs: the demo company's actions and some that misbehave."""

from demo.actions.actions import ActionCancelOrder, ActionOrderStatus, ActionSubmitReturn, ValidateReturnForm
from tests.bot.rasa.actions.misbehaving import (
    ActionCrash,
    ActionDidYouMean,
    ActionForever,
    ActionGuessShoeSize,
    ActionPause,
    ActionReject,
    ActionSessionStart,
    ActionSlow,
    ActionStrangeEvent,
    ActionThenStatus,
    ValidateProbeForm,
)

__all__ = ["ActionCancelOrder", "ActionCrash", "ActionDidYouMean", "ActionForever", "ActionGuessShoeSize",
           "ActionOrderStatus", "ActionPause", "ActionReject", "ActionSessionStart",
           "ActionSlow", "ActionStrangeEvent", "ActionSubmitReturn", "ActionThenStatus", "ValidateProbeForm",
           "ValidateReturnForm"]
