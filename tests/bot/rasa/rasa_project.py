"""A small but complete Rasa 3.x project, written as files, for the import, domain and rules tests."""

from __future__ import annotations

from pathlib import Path

DOMAIN = """\
version: "3.1"
intents:
  - greet
  - goodbye
  - order_status
  - return_item
  - affirm
  - deny
  - chitchat:
      use_entities: false
entities:
  - order_id
  - product
  - city:
      roles: [from, to]
slots:
  order_id:
    type: text
    mappings:
      - type: from_entity
        entity: order_id
  return_reason:
    type: text
    influence_conversation: false
    mappings:
      - type: from_text
        conditions:
          - active_loop: return_form
            requested_slot: return_reason
  return_confirmed:
    type: bool
    mappings:
      - type: from_intent
        intent: affirm
        value: true
        conditions:
          - active_loop: return_form
            requested_slot: return_confirmed
      - type: from_intent
        intent: deny
        value: false
  size:
    type: categorical
    values: [small, large, yes, no]
    mappings:
      - type: from_entity
        entity: product
  refund_amount:
    type: float
    min_value: 0
    max_value: 500
    initial_value: 0
    mappings:
      - type: custom
forms:
  return_form:
    required_slots:
      - order_id
      - return_reason
      - return_confirmed
responses:
  utter_greet:
    - text: "Hello! How can I help?"
    - text: "Hi there!"
  utter_goodbye:
    - text: "Bye, see you soon."
  utter_ask_return_reason:
    - text: "Why are you returning order {order_id}?"
  utter_ask_return_confirmed:
    - text: "Shall I register the return of {order_id}?"
      buttons:
        - title: "Yes"
          payload: /affirm
        - title: "No"
          payload: /deny
  utter_return_done:
    - text: "Done: the return of {order_id} is registered."
    - text: "Return registered."
      channel: slack
  utter_default:
    - text: "Sorry, I didn't get that."
actions:
  - action_order_status
  - validate_return_form
session_config:
  session_expiration_time: 30
  carry_over_slots_to_new_session: false
"""

NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hi
    - hello
    - hey there
    - good morning
    - hello again
- intent: goodbye
  examples: |
    - bye
    - see you
- intent: order_status
  examples: |
    - where is order [4471](order_id)
    - status of [8812](order_id) please
    - has my [sneakers](product:shoes) order shipped
    - track my [boots]{"entity": "product", "value": "shoes"}
    - what about my order
- intent: return_item
  examples: |
    - I want to return something
    - return my [jacket](product)
    - send it back from [Berlin]{"entity": "city", "role": "from"} to [Paris]{"entity": "city", "role": "to"}
- intent: affirm
  examples: |
    - yes
- intent: deny
  examples: |
    - no
- synonym: shoes
  examples: |
    - trainers
- regex: order_id
  examples: |
    - \\b\\d{4}\\b
- lookup: city
  examples: |
    - Berlin
    - Paris
"""

RULES = """\
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: goodbye
  steps:
  - intent: goodbye
  - action: utter_goodbye
- rule: order status
  steps:
  - intent: order_status
  - action: action_order_status
- rule: start a return
  steps:
  - intent: return_item
  - action: return_form
  - active_loop: return_form
- rule: submit the return
  condition:
  - active_loop: return_form
  steps:
  - action: return_form
  - active_loop: null
  - slot_was_set:
    - requested_slot: null
  - action: utter_return_done
- rule: say hi first
  conversation_start: true
  steps:
  - intent: greet
  - action: utter_greet
- rule: deny after confirming
  condition:
  - slot_was_set:
    - return_confirmed: true
  steps:
  - intent: deny
  - action: utter_default
"""

STORIES = """\
version: "3.1"
stories:
- story: happy return
  steps:
  - intent: return_item
  - action: return_form
- story: just hello
  steps:
  - intent: greet
  - action: utter_greet
"""

CONFIG = """\
recipe: default.v1
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexEntityExtractor
  - name: DIETClassifier
    epochs: 100
policies:
  - name: MemoizationPolicy
  - name: TEDPolicy
  - name: RulePolicy
"""

ENDPOINTS = """\
action_endpoint:
  url: "http://localhost:5055/webhook"
  headers:
    X-Team: helpline
  basic_auth:
    username: bot
    password: ${ACTION_PASSWORD}
  token: ${ACTION_TOKEN}
tracker_store:
  type: redis
"""


def write_project(root: Path, **replace: str) -> Path:
    """The project under ``root``; ``replace`` swaps a file's text (``nlu=...``), an empty text leaves it out."""
    files = {"domain.yml": DOMAIN, "data/nlu.yml": NLU, "data/rules.yml": RULES, "data/stories.yml": STORIES,
             "config.yml": CONFIG, "endpoints.yml": ENDPOINTS}
    keys = {"domain": "domain.yml", "nlu": "data/nlu.yml", "rules": "data/rules.yml", "stories": "data/stories.yml",
            "config": "config.yml", "endpoints": "endpoints.yml"}
    for key, text in replace.items():
        files[keys[key]] = text
    for name, text in files.items():
        if text:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    return root


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` where ``needle`` first appears."""
    return text[: text.index(needle)].count("\n") + 1
