import pytest


@pytest.fixture
def region(db):
    from qifu.org.models import Region

    return Region.objects.create(code="testland", name="测试区")
