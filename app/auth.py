"""Access control: who a bearer token is, and what it may do.

Off unless tokens are configured. Three kinds of caller:

- `admin` tokens (configured) may do everything;
- `read` tokens (configured) may only read, and try definitions with `POST /v1/parse`;
- run tokens, made when a run is created and returned once, may only post that run's
  logs and complete it: a training container gets one and nothing more.

Tokens are kept only as SHA-256 hashes (they are long random strings, so a fast hash
is enough) and compared in constant time. A run token names its run
(`lmr_<run id>_<secret>`), so checking it reads one hash and never searches by hash.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from app.errors import Forbidden, Unauthenticated

__all__ = [
    "Action",
    "Principal",
    "Role",
    "TokenBook",
    "hash_token",
    "load_tokens",
    "new_run_token",
]

MIN_TOKEN_LENGTH = 16
# A run id fits a 64-bit signed integer: longer digit strings are forged, never looked up.
_RUN_TOKEN = re.compile(r"lmr_([1-9][0-9]{0,17})_[A-Za-z0-9_-]+")


class Role(enum.StrEnum):
    ADMIN = "admin"
    READ = "read"
    RUN = "run"


class Action(enum.StrEnum):
    READ = "read"  # any GET, and the dry run
    MANAGE = "manage"  # create jobs and runs
    INGEST = "ingest"  # post a run's logs, complete it


@dataclass(frozen=True)
class Principal:
    role: Role
    run_id: int | None = None  # for run tokens

    def authorize(self, action: Action, run_id: int | None = None) -> None:
        """Raises: Forbidden when this caller may not do `action` (on run `run_id`)."""
        if self.role is Role.ADMIN:
            return
        if self.role is Role.READ and action is Action.READ:
            return
        if self.role is Role.RUN and action is Action.INGEST and run_id == self.run_id:
            return
        what = {
            Action.READ: "read",
            Action.MANAGE: "create jobs or runs",
            Action.INGEST: "post logs to or complete this run",
        }[action]
        raise Forbidden(f"a {self.role.value} token may not {what}")


def hash_token(token: str) -> str:
    # surrogatepass: a header cannot carry one, but nothing here should raise on any str.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_run_token(run_id: int) -> str:
    return f"lmr_{run_id}_{secrets.token_urlsafe(32)}"


class TokenBook:
    """The configured tokens, hashed. Thread-safe (read-only after construction)."""

    def __init__(self, tokens: Iterable[tuple[Role, str]]) -> None:
        self._hashes = [(role, hash_token(token)) for role, token in tokens]

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def identify(self, token: str | None, run_token_hash: Callable[[int], str | None]) -> Principal:
        """Who `token` is.

        Args:
            run_token_hash: looks up the stored hash of a run's token by run id.

        Raises: Unauthenticated when the token is missing or matches nothing.
        """
        if not token:
            raise Unauthenticated("this service needs a token: send Authorization: Bearer <token>")
        presented = hash_token(token)
        if token.startswith("lmr_"):
            run = _RUN_TOKEN.fullmatch(token)
            if run is None:
                raise Unauthenticated("the token is not valid")
        else:
            run = None
        if run is not None:
            run_id = int(run.group(1))
            stored = run_token_hash(run_id)
            if stored is not None and hmac.compare_digest(presented, stored):
                return Principal(Role.RUN, run_id)
            raise Unauthenticated("the token is not valid")
        found = None
        for role, stored in self._hashes:  # every entry, so time does not tell which matched
            if hmac.compare_digest(presented, stored):
                found = role
        if found is None:
            raise Unauthenticated("the token is not valid")
        return Principal(found)


def load_tokens(inline: str | None, path: Path | None) -> TokenBook:
    """Tokens from `LOGMETRICS_API_TOKENS` (`role:token`, comma-separated) and a token
    file (one `role:token` a line, `#` comments).

    Raises:
        ValueError: an entry without a known role, or a token shorter than 16 characters.
    """
    entries: list[str] = []
    if inline:
        entries += inline.split(",")
    if path is not None:
        entries += path.read_text().splitlines()
    tokens = []
    for number, entry in enumerate(entries, 1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        role, sep, token = entry.partition(":")
        if not sep or role not in (Role.ADMIN, Role.READ):
            raise ValueError(f"token entry {number}: write it as admin:TOKEN or read:TOKEN")
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"token entry {number}: tokens must be at least 16 characters")
        tokens.append((Role(role), token))
    return TokenBook(tokens)
