"""OwnerThemeModels: a person's promoted theme classifier, read from the model registry.

The registry's version key is read on every call (one Redis round trip); the artefact itself only
when the version changed, so a newly promoted model is used from the next Analyze on, without a
restart, and an unchanged one costs no parsing.
"""

from __future__ import annotations

import logging

from services.common.errors import Unavailable
from services.common.theme_models import ThemeModel, ThemeModelRegistry

log = logging.getLogger(__name__)
MAX_CACHED_OWNERS = 1000


class OwnerThemeModels:
    def __init__(self, registry: ThemeModelRegistry) -> None:
        self._registry = registry
        self._cache: dict[str, ThemeModel] = {}

    async def model_for(self, owner_id: str) -> ThemeModel | None:
        """The owner's current model, or None (no model yet, or the registry is unreachable:
        the default classifier then answers, rather than failing the whole analysis)."""
        try:
            version = await self._registry.current_version(owner_id)
            if version == 0:
                return None
            cached = self._cache.get(owner_id)
            if cached is not None and cached.version == version:
                return cached
            model = await self._registry.current(owner_id)
        except Unavailable:
            log.warning("model registry unavailable; default themes used")
            return None
        except ValueError:
            log.exception("unreadable theme model; default themes used")
            return None
        if model is not None:
            if len(self._cache) >= MAX_CACHED_OWNERS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[owner_id] = model
        return model
