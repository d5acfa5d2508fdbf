"""The action package the tests' rasa-sdk server runs: the demo company's actions and some that misbehave."""

from demo.actions.actions import ActionCancelOrder, ActionOrderStatus, ActionSubmitReturn, ValidateReturnForm
from tests.bot.rasa.actions.misbehaving import ActionCrash, ActionReject, ActionSlow

__all__ = ["ActionCancelOrder", "ActionCrash", "ActionOrderStatus", "ActionReject", "ActionSlow",
           "ActionSubmitReturn", "ValidateReturnForm"]
