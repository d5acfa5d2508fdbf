"""The bodies of the HTTP API, one module per area, so ``/openapi.json`` says what every route takes and returns.

Response models list their keys in the order the bodies have always had them (a body is rendered in
field order), and forbid keys they do not name, so a shape that changes below fails the tests instead of
losing a field.
"""
