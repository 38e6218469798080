"""The environment, read once: every ``COLLABKG_*`` variable the project knows, as one object.

The command line builds :class:`Settings` once (``Settings.from_env()``) and passes its values down
as explicit arguments (the store folder, the base IRI); a Python caller can build its own. Options
given on the command line win over the environment. Every variable is documented in the README.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_STORE = Path(".collabkg") / "store"

VARIABLES = {
    "COLLABKG_STORE": "store folder (default ./.collabkg/store)",
    "COLLABKG_BASE": "base IRI of instance data (default https://w3id.org/collabkg/id/)",
    "COLLABKG_VALIDATE": "0 imports without SHACL validation (default 1)",
    "COLLABKG_SHACL_ENGINE": "validation engine: fast (default) or pyshacl",
    "COLLABKG_ENDPOINT_USER": "user name for a remote store's writes",
    "COLLABKG_ENDPOINT_PASSWORD": "password for a remote store's writes",
    "COLLABKG_ENDPOINT_AUTH": "basic (default) or digest",
    "COLLABKG_ENDPOINT_QUERY_AUTH": "1 sends the credentials with queries too",
}


@dataclass(frozen=True)
class Settings:
    """Values from the environment (``None`` where a variable is unset or empty)."""

    store: Path = DEFAULT_STORE
    base: str | None = None  # None: collabkg.namespaces.DEFAULT_BASE
    validate: bool = True
    shacl_engine: str | None = None
    endpoint_user: str | None = None
    endpoint_password: str | None = None
    endpoint_auth: str = "basic"
    endpoint_query_auth: bool = False

    @classmethod
    def of(cls, args) -> "Settings":
        """The settings a command got from the command line (``args.settings``, read once by ``main``);
        read from the environment when a caller built ``args`` itself."""
        return getattr(args, "settings", None) or cls.from_env()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(name) or None

        return cls(
            store=Path(get("COLLABKG_STORE") or DEFAULT_STORE),
            base=get("COLLABKG_BASE"),
            validate=(get("COLLABKG_VALIDATE") or "1") != "0",
            shacl_engine=get("COLLABKG_SHACL_ENGINE"),
            endpoint_user=get("COLLABKG_ENDPOINT_USER"),
            endpoint_password=get("COLLABKG_ENDPOINT_PASSWORD"),
            endpoint_auth=(get("COLLABKG_ENDPOINT_AUTH") or "basic").lower(),
            endpoint_query_auth=(get("COLLABKG_ENDPOINT_QUERY_AUTH") or "").lower() in ("1", "true", "yes"),
        )
