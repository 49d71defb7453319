import pytest

from qualiflow.imports import services


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path


@pytest.fixture
def legacy(db):
    return services.source_system_create(code="legacy-hr", name="旧HR系统")
