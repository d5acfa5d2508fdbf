"""The parts of ``benchmarks.e2e_ws``: the load client, the echo baseline, server control, the database check,
the profile and the report. Nothing here imports the server's code paths: it speaks the public protocol."""
