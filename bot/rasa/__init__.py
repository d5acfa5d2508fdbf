"""Rasa compatibility: a team's Rasa project (domain, NLU data, rules, endpoints) and action server, used as
Rasa uses them."""
