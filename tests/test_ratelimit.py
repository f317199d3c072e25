import pytest
from django.core.exceptions import ImproperlyConfigured

from logicnet.ratelimit import consume, parse_rate


@pytest.mark.parametrize(
    ("rate", "parsed"), [("30/m", (30, 60)), ("300/5m", (300, 300)), ("1/s", (1, 1)), ("10/2h", (10, 7200))]
)
def test_rates_are_read_as_allauth_writes_them(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["30", "m/30", "30/5x", "", "-1/m"])
def test_a_malformed_rate_is_a_configuration_error(rate):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(rate)


def test_counts_per_scope_and_identity():
    assert [consume(scope="a", identity="x", limit=2, period=60) for _ in range(3)] == [True, True, False]
    assert consume(scope="a", identity="y", limit=2, period=60)
    assert consume(scope="b", identity="x", limit=2, period=60)


def test_the_cache_holds_no_client_address():
    from django.core.cache import cache

    consume(scope="public-client", identity="198.51.100.7", limit=5, period=60)
    keys = cache._cache.get_client().keys("*")
    assert keys
    assert not [k for k in keys if b"198.51.100.7" in k]
