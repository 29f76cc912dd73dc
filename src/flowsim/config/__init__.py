"""The config layer: YAML files, overlays and ``--set`` overrides into validated ``Params``.

Typical use::

    params = load_config("configs/baseline.yaml", overlays=["configs/policies/wip.yaml"],
                         sets=["lead.wip_limit=3"])

Every problem raises :class:`ConfigError` with a one-line message that names
the file, line and key path to fix.
"""

from flowsim.config.errors import ConfigError
from flowsim.config.loader import config_hash, dump_yaml, load_config, resolve_config
from flowsim.config.reference import json_schema, reference_markdown

__all__ = [
    "ConfigError",
    "config_hash",
    "dump_yaml",
    "json_schema",
    "load_config",
    "reference_markdown",
    "resolve_config",
]
