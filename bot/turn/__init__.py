"""One turn of dialogue: classify the customer's message, route it, pick the reply, stream it."""
