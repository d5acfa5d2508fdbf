"""Order status, cancellation and the return form: the demo's custom actions, plain rasa-sdk."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from demo.actions import orders


def _order_id(tracker: Tracker) -> str | None:
    """The order the customer means: one named in this message, else the one the conversation is about."""
    return orders.normalise(next(tracker.get_latest_entity_values("order_id"), None) or tracker.get_slot("order_id"))


def _the_order(dispatcher: CollectingDispatcher, tracker: Tracker) -> tuple[dict[str, Any] | None, list[EventType]]:
    """The order the customer means, or None and the events to return: asked which one, or told it is unknown."""
    order_id = _order_id(tracker)
    if order_id is None:
        dispatcher.utter_message(response="utter_ask_order_id")
        return None, []
    order = orders.find(order_id)
    if order is None:
        dispatcher.utter_message(response="utter_unknown_order", order_id=order_id)
        return None, [SlotSet("order_id", None)]
    return order, []


def describe(order: dict[str, Any]) -> str:
    items = ", ".join(order["items"])
    if order["status"] == "shipped":
        return (f"Order {order['id']} ({items}) is on its way with {order['carrier']} and should arrive in "
                f"{order['eta_days']} days.")
    if order["status"] == "processing":
        return f"Order {order['id']} ({items}) is being packed and ships within {order['eta_days']} days."
    if order["status"] == "delivered":
        return f"Order {order['id']} ({items}) was delivered {order['delivered_days_ago']} days ago."
    return f"Order {order['id']} ({items}) was cancelled."


class ActionOrderStatus(Action):
    def name(self) -> str:
        return "action_order_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order, unfound = _the_order(dispatcher, tracker)
        if order is None:
            return unfound
        dispatcher.utter_message(text=describe(order))
        return [SlotSet("order_id", order["id"])]


class ActionCancelOrder(Action):
    def name(self) -> str:
        return "action_cancel_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order, unfound = _the_order(dispatcher, tracker)
        if order is None:
            return unfound
        if order["status"] == "processing":
            orders.cancel(order["id"])
            dispatcher.utter_message(text=f"Done: order {order['id']} is cancelled and your refund is on its way.")
        elif order["status"] == "cancelled":
            dispatcher.utter_message(text=f"Order {order['id']} is already cancelled.")
        else:
            dispatcher.utter_message(
                text=f"Order {order['id']} has already left our warehouse, so it can't be cancelled; you can "
                     "return it once it arrives.",
                buttons=[{"title": "Start a return", "payload": "/return_item"}],
            )
        return [SlotSet("order_id", order["id"])]


class ValidateReturnForm(FormValidationAction):
    def name(self) -> str:
        return "validate_return_form"

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        order = orders.find(value)
        if order is None:
            dispatcher.utter_message(response="utter_unknown_order", order_id=orders.normalise(value) or value)
            return {"order_id": None}
        if not orders.returnable(order):
            dispatcher.utter_message(
                text=f"Order {order['id']} can't be returned: returns are open for {orders.RETURN_DAYS} days "
                     "after delivery.")
            return {"order_id": None}
        return {"order_id": order["id"]}

    def validate_return_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        reason = str(value or "").strip()
        if len(reason) < 3:
            dispatcher.utter_message(text="Could you tell me in a few words why you're returning it?")
            return {"return_reason": None}
        return {"return_reason": reason}

    def validate_return_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        if value is False:  # the customer said no: the form ends without a return
            dispatcher.utter_message(text="All right, I haven't registered a return.")
            return {"return_confirmed": False, "requested_slot": None}
        return {"return_confirmed": True if value is True else None}


class ActionSubmitReturn(Action):
    def name(self) -> str:
        return "action_submit_return"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("return_confirmed") is True:
            dispatcher.utter_message(
                text=f"Your return for order {tracker.get_slot('order_id')} is registered. We've e-mailed you a "
                     "prepaid label; the refund follows once it reaches us.")
        return [SlotSet("return_reason", None), SlotSet("return_confirmed", None)]
