"""Theme model artefacts (JSON, no pickle) and the nlp side that picks a person's model up."""

from __future__ import annotations

import pytest

from services.common.errors import Unavailable
from services.common.theme_models import ThemeModel
from services.nlp.store.owner_themes import OwnerThemeModels


def model(version: int = 1, classes: list[str] | None = None) -> ThemeModel:
    classes = classes or ["Rust", "Gardening", "Investing"]
    coef = [[1.0 if i == j else 0.0 for j in range(3)] for i in range(len(classes))]
    return ThemeModel(version, classes, coef, [0.0] * len(classes), 12, 0.9, "2026-11-26T00:00:00Z")


def test_round_trip_through_json_keeps_every_number() -> None:
    original = model()
    assert ThemeModel.from_json(original.to_json()) == original


def test_predicts_the_class_with_the_highest_score_and_a_probability() -> None:
    theme, confidence = model().predict([0.0, 5.0, 0.0])
    assert theme == "Gardening"
    assert 0.9 < confidence <= 1.0


def test_two_class_models_use_the_single_row_form() -> None:
    binary = ThemeModel(1, ["Cats", "Dogs"], [[2.0, 0.0]], [0.0], 4, 1.0, "t")
    assert binary.predict([3.0, 0.0])[0] == "Dogs"
    assert binary.predict([-3.0, 0.0])[0] == "Cats"


@pytest.mark.parametrize(
    "raw",
    [
        '{"version": 1}',
        '{"version": 1, "classes": ["a"], "coef": [[1]], "intercept": [0], '
        '"examples": 1, "accuracy": 1, "trained_at": "t"}',
        "not json at all",
    ],
)
def test_malformed_artefacts_are_refused(raw: str) -> None:
    with pytest.raises((ValueError, KeyError)):
        ThemeModel.from_json(raw)


class FakeRegistry:
    def __init__(self) -> None:
        self.models: dict[str, ThemeModel] = {}
        self.loads = 0
        self.down = False

    async def current_version(self, owner_id: str) -> int:
        if self.down:
            raise Unavailable("registry down")
        found = self.models.get(owner_id)
        return found.version if found else 0

    async def current(self, owner_id: str) -> ThemeModel | None:
        self.loads += 1
        return self.models.get(owner_id)


async def test_a_new_version_is_picked_up_and_an_unchanged_one_is_not_reloaded() -> None:
    registry = FakeRegistry()
    owner_models = OwnerThemeModels(registry)  # type: ignore[arg-type]
    assert await owner_models.model_for("ada") is None

    registry.models["ada"] = model(1)
    assert (await owner_models.model_for("ada")) == model(1)
    assert (await owner_models.model_for("ada")) == model(1)
    assert registry.loads == 1

    registry.models["ada"] = model(2, ["A", "B", "C"])
    assert (await owner_models.model_for("ada")) == model(2, ["A", "B", "C"])
    assert registry.loads == 2


async def test_an_unreachable_registry_falls_back_to_the_defaults() -> None:
    registry = FakeRegistry()
    registry.down = True
    assert await OwnerThemeModels(registry).model_for("ada") is None  # type: ignore[arg-type]
