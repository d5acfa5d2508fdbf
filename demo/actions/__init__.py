"""Northwind Outfitters' custom actions, written with rasa-sdk exactly as for Rasa.

Run them as any Rasa team runs its action server (``make run`` does it for the demo)::

    SANIC_HOST=127.0.0.1 python -m rasa_sdk --actions demo.actions --port 5055
"""
