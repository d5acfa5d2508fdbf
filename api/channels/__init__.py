"""Rasa's input channels over Helpline's conversations: the REST webhook and the socket.io channel."""
