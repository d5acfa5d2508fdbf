"""Private PostgreSQL and Redis servers that a fault test may stop and start at will, leaving the shared ones
(which every other test uses) alone: the same Debian binaries the shared ones run, on free ports."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.servers import free_port


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its commands as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _postgres_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                        None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian's postgresql package has it)")
    return found


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder: ``stop`` and ``start`` it in the middle of a test."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls) -> PrivatePostgres:
        # its own folder under the system's temporary folder: pytest's are private to the user that runs the
        # tests, and as root PostgreSQL runs as the postgres user, who must reach its folder
        folder = Path(tempfile.mkdtemp(prefix="helpline-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
        cluster = cls(folder, free_port())
        subprocess.run([*_as_postgres_user(), _postgres_bin("initdb"), "-D", str(folder / "data"), "-A", "trust",
                        "-U", "postgres", "--no-sync"], check=True, capture_output=True)
        cluster.start()
        return cluster

    def _ctl(self, *args: str) -> None:
        subprocess.run([*_as_postgres_user(), _postgres_bin("pg_ctl"), "-D", str(self.folder / "data"), *args],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.folder / "postgres.log"), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (``immediate``: as a crash does, no clean shutdown)."""
        self._ctl("-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A Redis server on a free port, without persistence."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def create(cls) -> PrivateRedis:
        server = cls(free_port())
        server.start()
        return server

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        with redis.Redis(port=self.port, socket_connect_timeout=1) as client:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    time.sleep(0.05)
        raise RuntimeError("the private Redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
